"""Detection through the conversation engine: the test split typed mid-PHQ-9 by new people
meets the same targets as the detector alone (the engine neither swallows a risk message
as an answer nor turns a check question into a dead end)."""

from __future__ import annotations

import pytest

from bot.content import Content, load_content
from bot.escalation.crisis import concern_detector, crisis_detector
from bot.escalation.detection.corpus import read_corpus
from bot.flows import Engine
from tools.detection.conversation_eval import outcome_in_phq9, score_in_conversation
from tools.detection.evaluation import MAX_ASKED, MAX_CRISIS_FALSE_ALARMS, MIN_RECALL
from tools.evaluate import DEFAULT_CONFIG, DEFAULT_CORPUS


@pytest.fixture(scope="module")
def content() -> Content:
    return load_content(DEFAULT_CONFIG.parent)


@pytest.fixture(scope="module")
def engine(content: Content) -> Engine:
    return Engine(
        content,
        detect_crisis=crisis_detector(DEFAULT_CONFIG),
        detect_concern=concern_detector(DEFAULT_CONFIG),
    )


def test_the_test_split_through_the_conversation_meets_the_targets(
    engine: Engine, content: Content
) -> None:
    rows = [row for row in read_corpus(DEFAULT_CORPUS) if row.split == "test"]
    overall = score_in_conversation(rows, content, engine).overall
    assert overall.recall >= MIN_RECALL, overall.line()
    assert overall.false_alarm_rate <= MAX_CRISIS_FALSE_ALARMS, overall.line()
    assert overall.asked_rate <= MAX_ASKED, overall.line()


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("me quiero matar", "es", "crisis"),
        ("ya no aguanto más", "es", "ask"),
        ("everything is pointless", "en", "ask"),
        ("me gusta el pan con palta", "es", "none"),
        ("2", "es", "none"),  # an answer is an answer
    ],
)
def test_what_a_person_gets(engine: Engine, text: str, language: str, expected: str) -> None:
    assert outcome_in_phq9(engine, text, language) == expected
