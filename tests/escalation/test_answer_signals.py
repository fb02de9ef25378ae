"""Risk rules fire when the answer is given (issue 11, item 2), through the Telegram webhook,
the inbox step, the escalation loop and the fake Bot API, on SQLite and PostgreSQL, with a
controllable clock. Whatever way a person leaves the questionnaire afterwards, the case stays.
"""

from __future__ import annotations

import pytest

from bot.escalation.models import Case
from tests.escalation import test_webhook_e2e as e2e
from tests.escalation.support import ANA, PERSON

stack = e2e.stack
telegram_api = e2e.telegram_api
loopback_only = e2e.loopback_only
Stack = e2e.Stack

#: hola, Español, consent, menu 3 (full check), PHQ-2 and GAD-2 all "Nada": the ASQ starts.
TO_ASQ = ("hola", "1", "1", "3", "0", "0", "0", "0")


async def to_asq(stack: Stack) -> None:
    await stack.say(PERSON, *TO_ASQ)
    await stack.settle()  # (the fake clock does not move: let the dispatcher catch up)


def signal_rules(case: Case) -> list[str]:
    return [s["rule"] for s in case.snapshot["signals"]]


async def test_asq_yes_raises_the_case_before_question_2(stack: Stack) -> None:
    await to_asq(stack)
    await stack.say(PERSON, "1")  # ASQ 1: Sí
    await stack.settle()
    case = stack.desk.case()
    assert (case.priority, signal_rules(case)) == ("high", ["asq.positive"])
    assert len(stack.sent_to(ANA)) == 1


@pytest.mark.parametrize(
    ("leave", "label"),
    [
        (("menú",), "menu"),
        (("SALIR",), "stop"),
        (("borrar", "1"), "delete"),
        ((), "silence"),
    ],
)
async def test_leaving_after_an_asq_refusal_never_removes_the_signal(
    stack: Stack, leave: tuple[str, ...], label: str
) -> None:
    await to_asq(stack)
    await stack.say(PERSON, "2", "prefiero no responder")  # ASQ 1 no, ASQ 2 refused
    await stack.say(PERSON, *leave)
    await stack.settle()
    stack.clock.advance(hours=30)  # long past the questionnaire's expiry
    await stack.settle()
    case = stack.desk.case()
    assert case.priority == "high", label
    assert case.status == "open"
    assert signal_rules(case) == ["asq.positive"]
    if label == "delete":
        assert case.participant_id is None  # the person is erased; the case is not
    assert len(stack.sent_to(ANA)) >= 1


@pytest.mark.parametrize("refusal", ["3", "Prefiero no responder", "prefiero no contestar"])
async def test_refusing_the_acuity_question_in_words_or_number_is_acute(
    stack: Stack, refusal: str
) -> None:
    await to_asq(stack)
    await stack.say(PERSON, "1", "2", "2", "2", refusal)
    await stack.settle()
    case = stack.desk.case()
    assert case.priority == "imminent"
    assert signal_rules(case) == ["asq.positive", "asq.acute"]
    assert "INMINENTE" in stack.sent_to(ANA)[-1]["text"]


async def test_a_later_answer_raises_the_priority_and_menu_keeps_it(stack: Stack) -> None:
    await to_asq(stack)
    await stack.say(PERSON, "1")
    await stack.settle()
    assert stack.desk.case().priority == "high"
    await stack.say(PERSON, "2", "2", "2", "1", "menú")  # ASQ 5: Sí, then leave
    await stack.settle()
    case = stack.desk.case()
    assert case.priority == "imminent"
    assert signal_rules(case)[-1] == "asq.acute"


async def test_the_old_zero_still_means_no_and_two_now_means_no(stack: Stack) -> None:
    await to_asq(stack)
    await stack.say(PERSON, "0", "2", "0", "2")  # all four "No"
    await stack.settle()
    assert stack.desk.cases() == []
    replies = " ".join(m["text"] for m in stack.sent_to(PERSON))
    assert "no muestran señales de riesgo" in replies


async def test_phq9_item9_with_a_minimal_total_gets_no_minimal_symptoms_text(
    stack: Stack,
) -> None:
    await stack.say(PERSON, "hola", "1", "1", "/phq9", *["0"] * 8, "1")
    await stack.settle()
    texts = [m["text"] for m in stack.sent_to(PERSON)]
    result = next(t for t in texts if "Resultado del PHQ-9" in t)
    assert "1/27" in result and "113" in result
    assert "mínimos" not in result and "Siga cuidándose" not in " ".join(texts)
    assert stack.desk.case().priority == "high"
