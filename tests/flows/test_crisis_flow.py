"""Crisis words typed at any moment: safe reply, crisis lines, a signal, the safety question."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content import Content
from bot.escalation.crisis import REMEMBERED_LENGTH, crisis_detector
from bot.flows import State
from bot.flows.machine import CrisisDetector
from bot.flows.types import RaiseSignal, SaveScreening
from tests.flows.chat import EngineChat, last, text_of

CRISIS = Path(__file__).resolve().parents[2] / "config" / "crisis"


@pytest.fixture(scope="module")
def detector() -> CrisisDetector:
    return crisis_detector(CRISIS)


@pytest.fixture
def chat(content: Content, detector: CrisisDetector) -> EngineChat:
    return EngineChat(content, detect_crisis=detector)


def test_crisis_words_mid_phq9_get_lines_a_signal_and_the_acuity_question(
    chat: EngineChat,
) -> None:
    chat.to_menu()
    chat.say("1")
    chat.say("2")
    step = chat.say("ya no puedo más, me quiero matar")
    text = text_of(step)
    assert "113" in text and "106" in text
    asq5 = chat.content.instruments["asq"].item("asq_5").text.es
    assert last(step).text == asq5
    signal = chat.effects_of(RaiseSignal)[0]
    assert (signal.source, signal.priority) == ("free_text", "imminent")
    assert "matar" in signal.detail["matched"]
    assert chat.conv.state is State.ACUITY
    assert chat.conv.answers == {"phq9_1": "2"}  # the questionnaire is kept


def test_acuity_yes_is_imminent_and_the_person_waits_with_no_questionnaire(
    chat: EngineChat,
) -> None:
    chat.to_menu()
    chat.say("1")
    chat.say("2")
    chat.say("me quiero morir")
    step = chat.say("sí")
    priorities = [s.priority for s in chat.effects_of(RaiseSignal)]
    assert priorities[-1] == "imminent"
    assert chat.conv.state is State.WAITING
    text = text_of(step)
    assert "donde las dejaste" not in text and "Hola de nuevo" not in text
    assert "próximos 6 minutos" in text  # the default imminent chain, once through
    step = chat.say("1")  # the waiting choices: 1 is the safety plan, not a PHQ-9 answer
    assert chat.conv.state is State.SAFETY_PLAN and "Paso 1 de 6" in text_of(step)
    assert chat.effects_of(SaveScreening) == []


def test_acuity_no_still_leaves_the_signal(chat: EngineChat) -> None:
    chat.to_menu()
    chat.say("me quiero morir")
    step = chat.say("no")
    assert len(chat.effects_of(RaiseSignal)) == 1
    assert "psicólogo" in text_of(step)
    assert chat.conv.state is State.WAITING


@pytest.mark.parametrize("text", ["no quiero morir", "me muero de risa", "este calor me mata"])
def test_negations_and_idioms_are_not_crises(chat: EngineChat, text: str) -> None:
    chat.to_menu()
    chat.say(text)
    assert chat.effects_of(RaiseSignal) == []


def test_crisis_before_consent_still_gets_lines_and_a_signal(chat: EngineChat) -> None:
    step = chat.say("me quiero matar")
    assert "113" in text_of(step)
    assert len(chat.effects_of(RaiseSignal)) == 1
    nxt = chat.say("hola")
    assert chat.conv.state is State.LANGUAGE and "¿En qué idioma" in text_of(nxt)


def test_crisis_after_stop_still_gets_lines_and_a_signal(chat: EngineChat) -> None:
    chat.to_menu()
    chat.say("/stop")
    step = chat.say("kiero morir")
    assert "113" in text_of(step)
    assert len(chat.effects_of(RaiseSignal)) == 1
    assert chat.conv.state is State.STOPPED


def test_the_detector_gives_the_same_answer_for_a_remembered_text_and_a_long_one(
    detector: CrisisDetector,
) -> None:
    """Short texts are remembered (checked at the webhook, by the crisis lane and the step);
    long ones are checked each time: both give the detection's answer."""
    text = "ya no aguanto, me quiero matar"
    first, again = detector(text), detector(text)
    assert first is not None and first == again and first.priority == "imminent"
    assert detector("hoy fue un buen día") is None
    long = "hoy fue un día largo. " * 40 + text
    assert len(long) > REMEMBERED_LENGTH
    found = detector(long)
    assert found is not None and found.priority == "imminent"
