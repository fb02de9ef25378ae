"""The one priority table (config/priorities.yaml): one test per row, the consistency rules,
and start-up validation that names the file, row and reason."""

from __future__ import annotations

import csv
import shutil
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest

from bot.content import Content, ContentError, load_content
from bot.content.priorities import DETECTOR_CATEGORIES, PRIORITY_ORDER, PriorityRow
from bot.escalation.crisis import crisis_detector
from bot.flows import ConvState, Engine, Inbound, State
from bot.flows.machine import CrisisDetector
from bot.flows.types import RaiseSignal
from bot.scoring import next_item
from bot.scoring.answers import Answers
from tests.scoring.scoring_helpers import all_paths

CONFIG = Path(__file__).resolve().parents[2] / "config"
CORPUS = Path(__file__).resolve().parents[1] / "data" / "crisis" / "corpus.csv"


@cache
def content() -> Content:
    return load_content(CONFIG)


@cache
def detector() -> CrisisDetector:
    return crisis_detector(CONFIG / "crisis")


def rows(kind: str) -> list[PriorityRow]:
    return [r for r in content().priorities.rows if r.kind == kind]


def rank(priority: str) -> int:
    return PRIORITY_ORDER.index(priority)


def answer_through(row: PriorityRow, item_id: str, code: str) -> list[RaiseSignal]:
    """Start the row's instrument in the engine and answer along a path that reaches
    ``item_id``, then give ``code``: the signals of that one step."""
    instrument = content().instruments[row.instrument or ""]
    path: Answers = next(
        p for p in all_paths(instrument) if item_id in p and p[item_id] in row.answers
    )
    engine = Engine(content())
    conv = ConvState(state=State.MENU)
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    conv.instrument_id = instrument.id
    conv.state = State.QUESTION
    answers: dict[str, str] = {}
    while True:
        item = next_item(instrument, answers)
        assert item is not None, f"{item_id} never asked"
        conv.item_id, conv.answers = item.id, dict(answers)
        given = code if item.id == item_id else path[item.id]
        option = next(o for o in instrument.options_for(item) if o.code == given)
        msg = Inbound("sim", "x", f"{item.id}", now, text=option.typed_key)
        step = engine.step(conv, msg, now)
        if item.id == item_id:
            return [e for e in step.effects if isinstance(e, RaiseSignal)]
        answers[item.id] = given
        conv.context.pop("raised", None)  # judge the row alone, not earlier answers


ANSWER_CASES = [
    pytest.param(row, item_id, code, id=f"{row.id}:{item_id}={code}")
    for row in rows("answer")
    for item_id in row.items
    for code in row.answers
]


@pytest.mark.parametrize(("row", "item_id", "code"), ANSWER_CASES)
def test_each_answer_row_raises_its_priority_at_the_answer(
    row: PriorityRow, item_id: str, code: str
) -> None:
    signals = answer_through(row, item_id, code)
    assert [(s.rule_id, s.priority) for s in signals] == [(row.id, row.priority)]
    assert signals[0].detail["at_answer"] is True


@pytest.mark.parametrize("row", rows("rule"), ids=lambda r: r.id)
def test_each_rule_row_matches_its_instrument_rule(row: PriorityRow) -> None:
    instrument = content().instruments[row.instrument or ""]
    rule = next(r for r in instrument.risk_rules if r.id == row.rule)
    assert str(rule.priority) == row.priority


def corpus_examples(category: str) -> list[str]:
    with CORPUS.open(encoding="utf-8") as handle:
        return [r["text"] for r in csv.DictReader(handle) if r["category"] == category]


@pytest.mark.parametrize("row", rows("free_text"), ids=lambda r: r.id)
def test_each_free_text_row_is_the_priority_the_detector_gives(row: PriorityRow) -> None:
    """A real message of the category, through the real detector, carries the row's
    priority (the lookup that replaced the hard-coded set in bot/escalation/crisis.py)."""
    detect = detector()
    found = None
    for text in corpus_examples(row.category or ""):
        match = detect(text)
        if match is not None and match.category == row.category:
            found = match
            break
    assert found is not None, f"no corpus message detected as {row.category}"
    assert found.priority == row.priority


@pytest.mark.parametrize("row", [*rows("question"), *rows("request")], ids=lambda r: r.id)
def test_each_question_and_request_row_is_what_the_engine_reads(row: PriorityRow) -> None:
    assert content().priorities.priority_of(row.category or "", "none") == row.priority


def test_acuity_yes_after_crisis_words_uses_the_table() -> None:
    engine = Engine(content(), detect_crisis=detector())
    conv = ConvState(state=State.MENU)
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    engine.step(conv, Inbound("sim", "x", "1", now, text="me quiero matar"), now)
    step = engine.step(conv, Inbound("sim", "x", "2", now, text="3"), now)  # declines
    [signal] = [e for e in step.effects if isinstance(e, RaiseSignal)]
    assert (signal.rule_id, signal.priority) == ("text.acuity_yes", "imminent")


def test_every_detector_category_and_check_question_has_a_row() -> None:
    table = content().priorities
    for category in (*DETECTOR_CATEGORIES, "check_yes"):
        assert table.for_category(category) is not None, category


def test_similar_content_has_the_same_urgency() -> None:
    table = content().priorities
    ideation = [
        table.for_answer("phq9", "phq9_9", "1"),
        table.for_answer("asq", "asq_1", "yes"),
        table.for_answer("asq", "asq_3", "yes"),
        table.for_answer("cssrs", "cssrs_1", "yes"),
        table.for_answer("cssrs", "cssrs_2", "yes"),
        table.for_category("suicidal_ideation"),
    ]
    assert {row.priority for row in ideation if row} == {"high"} and all(ideation)
    plan = table.for_answer("cssrs", "cssrs_5", "yes")
    intent = table.for_category("suicidal_intent")
    assert plan is not None and intent is not None
    assert rank(plan.priority) <= rank(intent.priority)  # at least as urgent as free text
    assert plan.ask_now  # and it asks "right now?"
    acute = table.for_answer("asq", "asq_5", "decline")
    assert acute is not None and acute.priority == "imminent"


def test_every_row_names_a_reason_and_a_source() -> None:
    for row in content().priorities.rows:
        assert row.reason.strip() and row.source.strip(), row.id


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(CONFIG, target)
    return target


def test_a_missing_detector_category_stops_start_up(config_copy: Path) -> None:
    path = config_copy / "priorities.yaml"
    text = path.read_text(encoding="utf-8").replace("category: farewell", "category: farewel")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ContentError, match=r"priorities\.yaml: no row for 'farewell'"):
        load_content(config_copy)


def test_a_priority_that_disagrees_with_the_instrument_stops_start_up(config_copy: Path) -> None:
    path = config_copy / "priorities.yaml"
    text = path.read_text(encoding="utf-8")
    marker = "    rule: gad7_severe\n    priority: routine"
    assert marker in text
    path.write_text(text.replace(marker, "    rule: gad7_severe\n    priority: high"), "utf-8")
    with pytest.raises(ContentError, match=r"gad7\.rule\.gad7_severe: priority high"):
        load_content(config_copy)


def test_a_row_without_its_source_stops_start_up(config_copy: Path) -> None:
    path = config_copy / "priorities.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("    source: Programme choice (next working morning).\n", "")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ContentError, match=r"priorities\.yaml: rows.*source"):
        load_content(config_copy)
