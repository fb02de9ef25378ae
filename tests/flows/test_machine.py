"""Scripted conversations with the engine: happy paths, navigation and bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.content import Content
from bot.flows import State
from bot.flows.types import (
    DeleteData,
    ForgetMessages,
    RaiseSignal,
    RecordConsent,
    SaveScreening,
    SetOptOut,
)
from tests.flows.chat import EngineChat, last, text_of


@pytest.fixture
def chat(content: Content) -> EngineChat:
    return EngineChat(content)


# --- first contact --------------------------------------------------------------------------


def test_first_contact_welcomes_warns_and_asks_the_language_first(chat: EngineChat) -> None:
    step = chat.say("hola")
    text = text_of(step)
    assert "No soy un servicio de emergencias" in text
    assert "113" in text and "106" in text
    assert "105" not in text  # the two numbers that matter first; the rest on request
    assert [c.payload for c in last(step).choices] == ["lang:es", "lang:en"]
    assert chat.conv.state is State.LANGUAGE
    assert step.effects == []
    consent = chat.say("1")
    assert chat.conv.state is State.CONSENT and "¿Acepta continuar?" in text_of(consent)


def test_refusing_consent_keeps_only_the_refusal_and_the_person_can_come_back(
    chat: EngineChat,
) -> None:
    chat.say("hola")
    chat.say("1")
    step = chat.say("no")
    assert chat.conv.state is State.REFUSED
    assert any(isinstance(e, ForgetMessages) for e in step.effects)
    assert [e.given for e in chat.effects_of(RecordConsent)] == [False]
    again = chat.say("hola de nuevo")
    assert chat.conv.state is State.LANGUAGE
    assert "¿En qué idioma prefiere continuar?" in text_of(again)


def test_english_then_consent_in_english_then_menu_in_english(chat: EngineChat) -> None:
    chat.say("hola")
    consent = chat.say("English")
    assert chat.conv.state is State.CONSENT and chat.conv.language == "en"
    assert "Do you agree to continue?" in text_of(consent)
    step = chat.say("yes")
    assert [e.given for e in chat.effects_of(RecordConsent)] == [True]
    assert chat.conv.state is State.MENU
    assert "What would you like to do?" in text_of(step)
    assert len(last(step).choices) == 8


def test_invalid_consent_answer_reasks_and_keeps_nothing(chat: EngineChat) -> None:
    chat.say("hola")
    chat.say("1")
    step = chat.say("quizás")
    assert chat.conv.state is State.CONSENT
    assert "No reconocí" in text_of(step)
    assert chat.effects_of(RecordConsent) == []


def test_menu_cannot_be_reached_before_consent(chat: EngineChat) -> None:
    chat.say("hola")
    chat.say("/phq9")
    assert chat.conv.state is State.LANGUAGE
    chat.say("1")
    chat.say("/phq9")
    assert chat.conv.state is State.CONSENT
    chat.say("menu")
    assert chat.conv.state is State.CONSENT


# --- a PHQ-9 ----------------------------------------------------------------------------------


def test_full_phq9_in_spanish_scores_and_explains(chat: EngineChat) -> None:
    chat.to_menu()
    step = chat.say("1")
    assert "Pregunta 1 de 9" in text_of(step)
    assert [c.key for c in last(step).choices] == ["0", "1", "2", "3"]
    for n, answer in enumerate(["2", "2", "1", "1", "1", "1", "1", "1"], start=2):
        step = chat.say(answer)
        assert f"Pregunta {n} de 9" in text_of(step)
    step = chat.say("0")
    saved = chat.effects_of(SaveScreening)
    assert len(saved) == 1 and saved[0].instrument_id == "phq9"
    assert saved[0].total == 10 and saved[0].band == "moderate"
    phq9 = chat.content.instruments["phq9"]
    band = next(b for b in phq9.bands if b.code == "moderate")
    assert "10/27" in text_of(step)
    assert band.label.es in text_of(step)
    assert "no es un diagnóstico" in text_of(step).lower()
    # a moderate band calls for a referral offer; no risk rule fired
    assert chat.effects_of(RaiseSignal) == []
    assert chat.conv.state is State.REFERRAL
    chat.say("sí")
    signals = chat.effects_of(RaiseSignal)
    assert [(s.source, s.priority) for s in signals] == [("request", "routine")]
    # They asked for a psychologist: they wait with us, and may go back to the menu.
    assert chat.conv.state is State.WAITING
    chat.say("3")
    assert chat.conv.state is State.MENU


def test_phq9_item9_flags_whatever_the_total_and_gives_crisis_lines(chat: EngineChat) -> None:
    chat.to_menu()
    chat.say("/phq9")
    for _ in range(8):
        chat.say("0")
    step = chat.say("1")
    saved = chat.effects_of(SaveScreening)[0]
    assert saved.total == 1 and saved.band == "minimal"
    signals = chat.effects_of(RaiseSignal)
    assert [(s.rule_id, s.priority) for s in signals] == [("phq9.item9", "high")]
    assert "113" in text_of(step)
    assert chat.conv.state is State.WAITING  # escalated: waits for a human, no referral


def test_answers_by_label_typo_accents_and_button(chat: EngineChat) -> None:
    chat.to_menu()
    chat.say("1")
    chat.say("CASI TODOS LOS DIAS")  # no accents, upper case
    chat.say("mas de la mitad de los dias")
    chat.say("varios dis")  # small typo
    chat.say("", payload="ans:phq9_4:0")  # a button
    assert chat.conv.answers == {"phq9_1": "3", "phq9_2": "2", "phq9_3": "1", "phq9_4": "0"}
    assert chat.conv.item_id == "phq9_5"


@pytest.mark.parametrize(
    "bad",
    ["", "   ", "😀", "7", "-1", "10", "1,5", "x" * 10_000, "tal vez", "/unknown", "1 2"],
)
def test_invalid_answers_reask_and_never_advance(chat: EngineChat, bad: str) -> None:
    chat.to_menu()
    chat.say("1")
    chat.say("2")
    before = (chat.conv.item_id, dict(chat.conv.answers))
    step = chat.say(bad)
    assert (chat.conv.item_id, chat.conv.answers) == before
    assert chat.conv.state is State.QUESTION
    assert "Pregunta 2 de 9" in text_of(step)
    assert [c.key for c in last(step).choices] == ["0", "1", "2", "3"]


def test_stale_button_from_an_earlier_question_is_not_taken(chat: EngineChat) -> None:
    chat.to_menu()
    chat.say("1")
    chat.say("2")
    step = chat.say("", payload="ans:phq9_1:3")
    assert chat.conv.answers == {"phq9_1": "2"}
    assert "pregunta anterior" in text_of(step)


def test_back_repeat_and_menu_work_in_the_middle(chat: EngineChat) -> None:
    chat.to_menu()
    chat.say("1")
    first = chat.say("atrás")
    assert "primera pregunta" in text_of(first)
    chat.say("3")
    chat.say("2")
    step = chat.say("atras")
    assert chat.conv.item_id == "phq9_2" and chat.conv.answers == {"phq9_1": "3"}
    assert "Pregunta 2 de 9" in text_of(step)
    again = chat.say("repetir")
    assert "Pregunta 2 de 9" in text_of(again)
    chat.say("back")  # English words work in Spanish too
    assert chat.conv.item_id == "phq9_1"
    menu = chat.say("MENÚ")
    assert chat.conv.state is State.MENU and chat.conv.answers == {}
    assert "¿Qué le gustaría hacer?" in text_of(menu)


def test_gad7_in_english_to_the_end(chat: EngineChat) -> None:
    chat.to_menu("en")
    step = chat.say("2")
    assert "Question 1 of 7" in text_of(step)
    for _ in range(7):
        step = chat.say("3")
    saved = chat.effects_of(SaveScreening)[0]
    assert (saved.instrument_id, saved.total, saved.band) == ("gad7", 21, "severe")
    assert "21/21" in text_of(step)


# --- the full check -------------------------------------------------------------------------


def test_full_check_with_negative_gates_still_screens_for_suicide(chat: EngineChat) -> None:
    chat.to_menu()
    chat.say("3")
    for _ in range(4):  # PHQ-2 and GAD-2, all zero
        chat.say("0")
    assert chat.conv.instrument_id == "asq"
    for _ in range(4):
        chat.say("no")
    saved = [(s.instrument_id, s.total, s.result) for s in chat.effects_of(SaveScreening)]
    assert saved == [("phq2", 0, None), ("gad2", 0, None), ("asq", None, "negative")]
    assert chat.conv.state is State.MENU


def test_full_check_positive_gate_continues_into_the_full_instrument(chat: EngineChat) -> None:
    chat.to_menu()
    chat.say("/screen")
    chat.say("2")
    step = chat.say("1")  # PHQ-2 = 3: positive
    assert chat.conv.instrument_id == "phq9"
    assert "Pregunta 3 de 9" in text_of(step)  # the two gate answers are carried over
    assert chat.conv.answers == {"phq9_1": "2", "phq9_2": "1"}
    for _ in range(7):
        chat.say("0")
    phq9 = next(s for s in chat.effects_of(SaveScreening) if s.instrument_id == "phq9")
    assert phq9.total == 3
    assert chat.conv.instrument_id == "gad2"


def test_asq_acute_positive_is_imminent(chat: EngineChat) -> None:
    chat.to_menu()
    chat.say("/screen")
    for _ in range(4):
        chat.say("0")
    chat.say("sí")  # ASQ 1
    for _ in range(3):
        chat.say("no")
    assert chat.conv.item_id == "asq_5"
    step = chat.say("sí")
    signals = chat.effects_of(RaiseSignal)
    # The yes to question 1 raised "high" at once; the yes to question 5 raised it further.
    assert [s.priority for s in signals] == ["high", "imminent"]
    assert "113" in text_of(step)


# --- resume and expiry ----------------------------------------------------------------------


def test_coming_back_after_a_while_offers_to_continue(chat: EngineChat) -> None:
    chat.to_menu()
    chat.say("1")
    chat.say("2")
    step = chat.say("1", after=timedelta(minutes=45))
    assert chat.conv.state is State.RESUME
    assert "pregunta 2 de 9" in text_of(step)
    step = chat.say("continuar")
    assert chat.conv.state is State.QUESTION and chat.conv.answers == {"phq9_1": "2"}
    assert "Pregunta 2 de 9" in text_of(step)


def test_greeting_mid_questionnaire_offers_to_continue(chat: EngineChat) -> None:
    chat.to_menu()
    chat.say("1")
    chat.say("hola")
    assert chat.conv.state is State.RESUME
    chat.say("2")  # go to the menu instead
    assert chat.conv.state is State.MENU and chat.conv.answers == {}


def test_questionnaire_expires_after_inactivity(chat: EngineChat) -> None:
    chat.to_menu()
    chat.say("1")
    chat.say("2")
    step = chat.say("1", after=timedelta(hours=25))
    assert chat.conv.state is State.MENU and chat.conv.answers == {}
    assert "empezamos de nuevo" in text_of(step)


# --- stop, delete, help ---------------------------------------------------------------------


def test_stop_records_opt_out_and_later_answers_do_nothing(chat: EngineChat) -> None:
    chat.to_menu()
    chat.say("1")
    chat.say("SALIR")
    assert [e.opted_out for e in chat.effects_of(SetOptOut)] == [True]
    for text in ("3", "gracias", "/phq9", "menu"):
        step = chat.say(text)
        assert chat.conv.state is State.STOPPED
        assert "EMPEZAR" in text_of(step)
    assert chat.effects_of(SaveScreening) == []
    step = chat.say("empezar")
    assert chat.conv.state is State.MENU and not chat.conv.opted_out
    assert [e.opted_out for e in chat.effects_of(SetOptOut)] == [True, False]


def test_delete_asks_for_confirmation(chat: EngineChat) -> None:
    chat.to_menu()
    chat.say("/delete")
    assert chat.conv.state is State.CONFIRM_DELETE
    chat.say("no")
    assert chat.conv.state is State.MENU and chat.effects_of(DeleteData) == []
    chat.say("BORRAR")
    step = chat.say("1")
    assert len(chat.effects_of(DeleteData)) == 1
    assert "borrados" in text_of(step)
    assert chat.conv.state is State.NEW


@pytest.mark.parametrize("word", ["AYUDA", "/help", "help"])
def test_help_shows_commands_and_keeps_the_question(chat: EngineChat, word: str) -> None:
    chat.to_menu()
    chat.say("1")
    step = chat.say(word)
    assert "/phq9" in text_of(step)
    assert chat.conv.state is State.QUESTION and "Pregunta 1 de 9" in text_of(step)


def test_unsupported_message_gets_a_kind_reply(chat: EngineChat) -> None:
    chat.to_menu()
    chat.say("1")
    step = chat.say("", kind="unsupported")
    assert "no puedo escuchar audios" in text_of(step)
    assert "113" in text_of(step) and "106" in text_of(step)  # it may carry a crisis
    assert chat.conv.item_id == "phq9_1"


def test_unknown_command_is_explained(chat: EngineChat) -> None:
    chat.to_menu()
    step = chat.say("/foo")
    assert "No conozco ese comando" in text_of(step)
    assert chat.conv.state is State.MENU


def test_resources_and_talk_to_a_psychologist(chat: EngineChat) -> None:
    chat.to_menu()
    step = chat.say("6")
    assert "113" in text_of(step) and "CSMC" in text_of(step)
    chat.say("5")
    assert [s.rule_id for s in chat.effects_of(RaiseSignal)] == ["request.talk_to_psychologist"]
