"""Three-valued evaluation of instrument conditions."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter
from scoring_helpers import instrument

from bot.instruments.schema import Condition
from bot.scoring import Facts, evaluate, evidence, holds

CONDITION: TypeAdapter[Any] = TypeAdapter(Condition)


def cond(data: dict[str, Any]) -> Condition:
    return CONDITION.validate_python(data)


def asq_facts(answers: dict[str, str], pending: set[str] | None = None) -> Facts:
    return Facts(instrument("asq"), answers, frozenset(pending or set()))


YES_1 = {"item": "asq_1", "in": ["yes"]}
YES_2 = {"item": "asq_2", "in": ["yes"]}


@pytest.mark.parametrize(
    ("condition", "answers", "pending", "expected"),
    [
        (YES_1, {"asq_1": "yes"}, set(), True),
        (YES_1, {"asq_1": "no"}, set(), False),
        (YES_1, {}, {"asq_1"}, None),  # may still be asked
        (YES_1, {}, set(), False),  # was not asked
        ({"any": [YES_1, YES_2]}, {"asq_1": "yes"}, {"asq_2"}, True),
        ({"any": [YES_1, YES_2]}, {"asq_1": "no"}, {"asq_2"}, None),
        ({"all": [YES_1, YES_2]}, {"asq_1": "no"}, {"asq_2"}, False),
        ({"all": [YES_1, YES_2]}, {"asq_1": "yes"}, {"asq_2"}, None),
        ({"none": [YES_1, YES_2]}, {"asq_1": "no"}, {"asq_2"}, None),
        ({"none": [YES_1, YES_2]}, {"asq_1": "no", "asq_2": "no"}, set(), True),
        ({"none": [YES_1]}, {"asq_1": "yes"}, set(), False),
        ({"item": "asq_1", "gte": 1}, {"asq_1": "yes"}, set(), True),
        ({"item": "asq_1", "gte": 1}, {"asq_1": "no"}, set(), False),
        ({"item": "asq_1", "gte": 0}, {"asq_1": "decline"}, set(), False),  # no value
        ({"total_gte": 1}, {}, set(), None),
        ({"result_in": ["negative"]}, {}, set(), None),
    ],
)
def test_evaluate(
    condition: dict[str, Any], answers: dict[str, str], pending: set[str], expected: bool | None
) -> None:
    facts = asq_facts(answers, pending)
    assert evaluate(cond(condition), facts) is expected
    assert holds(cond(condition), facts) is (expected is True)


def test_total_and_result_when_known() -> None:
    phq9 = instrument("phq9")
    assert evaluate(cond({"total_gte": 20}), Facts(phq9, {}, total=20)) is True
    assert evaluate(cond({"total_gte": 20}), Facts(phq9, {}, total=19)) is False
    asq = instrument("asq")
    assert evaluate(cond({"result_in": ["negative"]}), Facts(asq, {}, result="negative"))


def test_evidence_names_only_the_parts_that_hold() -> None:
    facts = asq_facts({"asq_1": "yes", "asq_2": "no"})
    assert evidence(cond({"any": [YES_1, YES_2]}), facts) == {"asq_1"}
    assert evidence(cond({"all": [YES_1, YES_2]}), facts) == set()
    assert evidence(cond({"none": [YES_2]}), facts) == set()
