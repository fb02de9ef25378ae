"""Coherent words (issue 11, item 5) and the C-SSRS screener in the menu (item 4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content import Content
from bot.escalation.crisis import crisis_detector
from bot.flows import State
from bot.flows.types import RaiseSignal, SaveScreening
from tests.flows.chat import EngineChat, last, text_of

CRISIS = Path(__file__).resolve().parents[2] / "config" / "crisis"


@pytest.fixture
def chat(content: Content) -> EngineChat:
    return EngineChat(content, detect_crisis=crisis_detector(CRISIS))


def test_after_stop_only_the_named_word_starts_again(chat: EngineChat) -> None:
    chat.to_menu()
    stopped = chat.say("SALIR")
    assert "escriba EMPEZAR" in text_of(stopped)
    reminder = chat.say("hola")
    assert chat.conv.state is State.STOPPED
    assert text_of(reminder) == chat.content.catalog("es").render("stopped_notice")
    back = chat.say("empezar")
    assert chat.conv.state is State.MENU and "de vuelta" in text_of(back)


def test_back_shows_the_answer_being_changed(chat: EngineChat) -> None:
    chat.to_menu()
    chat.say("/phq9")
    chat.say("2")
    step = chat.say("atrás")
    assert "Su respuesta anterior fue: «Más de la mitad de los días»" in text_of(step)
    assert "Pregunta 1 de 9" in text_of(step)


def test_asq_counts_never_jump_and_question_5_is_one_more(chat: EngineChat) -> None:
    chat.to_menu()
    chat.say("3")  # full check
    for _ in range(4):
        chat.say("0")  # PHQ-2 and GAD-2: nothing
    steps = [chat.say("2"), chat.say("prefiero no responder"), chat.say("2")]
    assert "Pregunta 2 de 4" in text_of(steps[0])
    assert "Pregunta 3 de 4" in text_of(steps[1])
    assert "Pregunta 4 de 4" in text_of(steps[2])
    fifth = chat.say("2")
    assert "Una pregunta más" in text_of(fifth) and "de 5" not in text_of(fifth)


def test_the_crisis_reply_gives_the_two_numbers_first_and_the_rest_on_request(
    chat: EngineChat,
) -> None:
    chat.to_menu()
    step = chat.say("me quiero morir")
    text = text_of(step)
    assert "113" in text and "106" in text and "105" not in text and "116" not in text
    assert "escriba LÍNEAS" in text
    chat.say("no")  # the acuity question
    lines = chat.say("líneas")
    assert "105" in text_of(lines) and "116" in text_of(lines)


def test_one_register_usted_in_spanish(content: Content) -> None:
    catalog = content.catalog("es")
    tu_forms = ("¿Aceptas", " tu ", " tus ", "Responde ", "Escribe ", "te escribirá", "Puedes ")
    for key, text in catalog.text.items():
        padded = f" {text} "
        assert not any(form in padded for form in tu_forms), key


def test_band_and_result_texts_say_usted_too(content: Content) -> None:
    tu_forms = (" tu ", " tus ", " Tus ", " te ", " ti.", " puedes ", " sientes ", " estás ", "Te ")
    for instrument in content.instruments.values():
        texts = [(b.code, b.label.es, b.action.es) for b in instrument.bands]
        texts += [(r.code, r.label.es, r.action.es) for r in instrument.results]
        for code, *words in texts:
            padded = f" {' '.join(words)} "
            assert not any(form in padded for form in tu_forms), (instrument.id, code)


def test_no_prompt_speaks_of_numbers_above_buttons(content: Content) -> None:
    for lang in ("es", "en"):
        catalog = content.catalog(lang)
        for key in ("invalid_answer", "invalid_choice", "menu"):
            assert "número" not in catalog.text[key] and "number" not in catalog.text[key]


def test_the_cssrs_is_in_the_menu_and_a_command(chat: EngineChat) -> None:
    chat.to_menu()
    menu = chat.say("menú")
    payloads = [c.payload for c in last(menu).choices]
    assert payloads.index("menu:cssrs") == 3  # option 4
    step = chat.say("4")
    assert chat.conv.instrument_id == "cssrs" and "Pregunta 1 de 3" in text_of(step)
    chat.say("menú")
    chat.say("/cssrs")
    assert chat.conv.instrument_id == "cssrs"


def test_cssrs_plan_asks_right_now_and_the_person_waits(chat: EngineChat) -> None:
    chat.to_menu()
    chat.say("/cssrs")
    chat.say("1")  # 1: wish to be dead: high at once
    chat.say("1")  # 2: thoughts
    chat.say("2")  # 3: method no
    chat.say("2")  # 4: intent no
    chat.say("1")  # 5: a plan: imminent at once
    assert [s.priority for s in chat.effects_of(RaiseSignal)] == ["high", "imminent"]
    step = chat.say("2")  # 6: behaviour no
    assert [s.instrument_id for s in chat.effects_of(SaveScreening)] == ["cssrs"]
    asq5 = chat.content.instruments["asq"].item("asq_5").text.es
    assert chat.conv.state is State.ACUITY and last(step).text == asq5
    chat.say("3")  # declines "right now?": acute
    assert chat.conv.state is State.WAITING
