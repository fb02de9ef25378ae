"""The detector's outcomes on plain examples (the measured figures are in test_evaluation)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.escalation.detection import NO_RISK, Detector, Outcome, load_detector

CONFIG = Path(__file__).resolve().parents[3] / "config" / "crisis"


@pytest.fixture(scope="module")
def detector() -> Detector:
    return load_detector(CONFIG)


@pytest.mark.parametrize(
    "text",
    ["me quiero matar hoy", "ya me tomé todas las pastillas", "I'm going to kill myself tonight"],
)
def test_certain_first_person_intent_is_a_crisis(detector: Detector, text: str) -> None:
    assessment = detector.assess(text)
    assert assessment.outcome is Outcome.CRISIS
    assert not assessment.about_someone_else


@pytest.mark.parametrize(
    "text",
    [
        "mi hermana se tomó un frasco de pastillas y no despierta",
        "my brother is on the roof saying he will jump",
    ],
)
def test_someone_else_in_danger_is_a_crisis_about_someone_else(
    detector: Detector, text: str
) -> None:
    assessment = detector.assess(text)
    assert assessment.outcome is Outcome.CRISIS
    assert assessment.category == "third_party_emergency"


@pytest.mark.parametrize(
    "text",
    ["hola", "2", "casi todos los días", "gracias, chau", "me muero de risa jajaja", ""],
)
def test_everyday_messages_are_none(detector: Detector, text: str) -> None:
    assert detector.assess(text).outcome is Outcome.NONE


def test_empty_and_symbol_only_messages_are_no_risk(detector: Detector) -> None:
    assert detector.assess("") is NO_RISK
    assert detector.assess("¿¡...!?") is NO_RISK


def test_a_lexicon_phrase_is_recorded_as_typed(detector: Detector) -> None:
    assessment = detector.assess("la verdad Me Kiero MATAR ya")
    assert assessment.matched == "Me Kiero MATAR"
    assert assessment.rule.startswith("lexicon:")


def test_very_long_messages_are_bounded(detector: Detector) -> None:
    text = "hoy fue un día largo en la chamba causa. " * 2000 + " me quiero matar"
    assert detector.assess(text).outcome is Outcome.NONE  # beyond the scan cap
    assert detector.assess("me quiero matar " + text).outcome is Outcome.CRISIS
