"""The check question asked when the crisis detector is unsure (bot.flows.concern).

The real detector reads the messages; each test first checks that its message is one the
detector is unsure about, so that a retrained model that reads it differently fails here
with a clear message rather than testing nothing.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.content import Content
from bot.escalation.crisis import concern_detector, crisis_detector
from bot.flows import State
from bot.flows.concern import CHECK_YES_RULE, SILENCE_RULE, ConcernDetector
from bot.flows.machine import CrisisDetector
from bot.flows.types import RaiseSignal, WithdrawHeldSignals
from tests.flows.chat import EngineChat, last, text_of

CRISIS = Path(__file__).resolve().parents[2] / "config" / "crisis"
UNSURE_ES = "ya no aguanto más"
UNSURE_EN = "everything is pointless"
UNSURE_OTHER = "mi papá dice que somos una carga"


@pytest.fixture(scope="module")
def detectors() -> tuple[CrisisDetector, ConcernDetector]:
    return crisis_detector(CRISIS), concern_detector(CRISIS)


@pytest.fixture
def chat(content: Content, detectors: tuple[CrisisDetector, ConcernDetector]) -> EngineChat:
    crisis, concern = detectors
    for text in (UNSURE_ES, UNSURE_EN, UNSURE_OTHER):
        assert crisis(text) is None and concern(text) is not None, f"not unsure: {text!r}"
    return EngineChat(content, detect_crisis=crisis, detect_concern=concern)


def in_phq9(chat: EngineChat, language: str = "es") -> None:
    chat.to_menu(language)
    chat.say("1")
    chat.say("2")
    assert chat.conv.state is State.QUESTION and chat.conv.answers == {"phq9_1": "2"}


def signals(chat: EngineChat) -> list[RaiseSignal]:
    return chat.effects_of(RaiseSignal)


def test_an_unsure_message_mid_phq9_gets_the_check_question_and_a_held_signal(
    chat: EngineChat,
) -> None:
    in_phq9(chat)
    step = chat.say(UNSURE_ES)
    assert text_of(step) == chat.content.catalog("es").render("check_question")
    assert [c.label for c in last(step).choices] == ["Sí", "No", "Prefiero no responder"]
    assert "113" not in text_of(step)  # a question, not the crisis reply
    [held] = signals(chat)
    assert held.rule_id == SILENCE_RULE and held.priority == "high"
    assert held.hold_for == timedelta(minutes=chat.content.flows.check_silence_minutes)
    assert held.detail["message"] == UNSURE_ES
    assert chat.conv.state is State.CHECK and chat.conv.answers == {"phq9_1": "2"}


@pytest.mark.parametrize("answer", ["sí", "1", "3", "prefiero no responder", "no sé", "a veces"])
def test_yes_a_refusal_or_an_ambivalent_answer_brings_the_crisis_lines(
    chat: EngineChat, answer: str
) -> None:
    in_phq9(chat)
    chat.say(UNSURE_ES)
    step = chat.say(answer)
    assert "113" in text_of(step) and "106" in text_of(step)
    [withdraw] = chat.effects_of(WithdrawHeldSignals)
    assert withdraw.rule_id == SILENCE_RULE
    raised = signals(chat)[-1]
    assert raised.rule_id == f"text.{CHECK_YES_RULE}" and raised.priority == "high"
    assert raised.detail["matched"] == UNSURE_ES  # the psychologist reads what worried us
    assert chat.conv.state is State.ACUITY  # then "right now?", as after crisis words
    assert step.effects.index(withdraw) < step.effects.index(raised)


@pytest.mark.parametrize("answer", ["no", "2", "no, solo estoy cansada"])
def test_no_returns_to_the_same_question_with_a_line_saying_we_are_here(
    chat: EngineChat, answer: str
) -> None:
    in_phq9(chat)
    chat.say(UNSURE_ES)
    step = chat.say(answer)
    text = text_of(step)
    assert "estamos para usted" in text and "Pregunta 2 de 9" in text
    assert chat.conv.state is State.QUESTION and chat.conv.answers == {"phq9_1": "2"}
    assert len(chat.effects_of(WithdrawHeldSignals)) == 1
    assert [s.rule_id for s in signals(chat)] == [SILENCE_RULE]  # nobody paged
    chat.say("1")
    assert chat.conv.answers == {"phq9_1": "2", "phq9_2": "1"}


def test_an_unclear_reply_asks_again_and_a_second_counts_as_declined(chat: EngineChat) -> None:
    in_phq9(chat)
    chat.say(UNSURE_ES)
    step = chat.say("¿por qué me pregunta eso?")
    assert chat.conv.state is State.CHECK and "quitarse la vida" in text_of(step)
    assert chat.effects_of(WithdrawHeldSignals) == []
    step = chat.say("no entiendo")  # starts like "no", but is not one
    assert "113" in text_of(step)
    assert signals(chat)[-1].rule_id == f"text.{CHECK_YES_RULE}"


def test_crisis_words_in_reply_to_the_check_question_are_a_crisis(chat: EngineChat) -> None:
    in_phq9(chat)
    chat.say(UNSURE_ES)
    step = chat.say("sí, me quiero matar")
    assert "113" in text_of(step)
    assert len(chat.effects_of(WithdrawHeldSignals)) == 1
    assert signals(chat)[-1].priority == "imminent"
    assert chat.conv.state is State.ACUITY


def test_leaving_with_menu_keeps_the_held_signal(chat: EngineChat) -> None:
    in_phq9(chat)
    chat.say(UNSURE_ES)
    chat.say("MENÚ")
    assert chat.conv.state is State.MENU
    assert chat.effects_of(WithdrawHeldSignals) == []  # silence still escalates
    assert "check" not in chat.conv.context


def test_after_a_no_the_question_is_not_repeated_for_a_while(chat: EngineChat) -> None:
    in_phq9(chat)
    chat.say(UNSURE_ES)
    chat.say("no")
    step = chat.say(UNSURE_ES, after=timedelta(minutes=5))
    assert chat.conv.state is State.QUESTION and "quitarse la vida" not in text_of(step)
    step = chat.say(UNSURE_ES, after=timedelta(minutes=31))
    assert chat.conv.state is State.CHECK


def test_a_message_about_someone_else_asks_about_that_person(chat: EngineChat) -> None:
    in_phq9(chat)
    step = chat.say(UNSURE_OTHER)
    assert "esa persona" in text_of(step)
    step = chat.say("sí")
    text = text_of(step)
    assert "quédese con ella" in text and "106" in text
    assert signals(chat)[-1].reason == "third_party"
    # The "right now?" question is about the writer: not asked of a helper.
    assert chat.conv.state is State.RESUME


def test_the_check_question_in_english(chat: EngineChat) -> None:
    in_phq9(chat, "en")
    step = chat.say(UNSURE_EN)
    assert "taking your life" in text_of(step)
    assert [c.label for c in last(step).choices] == ["Yes", "No", "Prefer not to say"]
    step = chat.say("no")
    assert "we are here for you" in text_of(step)


def test_not_asked_before_consent(chat: EngineChat) -> None:
    step = chat.say(UNSURE_ES)
    # the language is chosen first, then consent: neither asks the check question
    assert chat.conv.state is State.LANGUAGE and signals(chat) == []
    assert "113" in text_of(step)  # the welcome gives the lines


def test_an_answer_that_is_an_option_is_taken_as_the_answer(chat: EngineChat) -> None:
    in_phq9(chat)
    chat.say("3")
    assert chat.conv.state is State.QUESTION and signals(chat) == []


def test_crisis_reply_by_kind(chat: EngineChat) -> None:
    in_phq9(chat)
    step = chat.say("mi hermana dice que ya no aguanta más")  # a third-person report
    assert "quédese con ella" in text_of(step)
    assert chat.conv.state is State.RESUME
    chat2 = EngineChat(chat.content, chat.detect_crisis, chat.detect_concern)
    in_phq9(chat2)
    step = chat2.say("quiero lastimarme")
    assert "sangra mucho" in text_of(step) and "106" in text_of(step)
    assert chat2.conv.state is State.ACUITY
