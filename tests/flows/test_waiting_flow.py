"""The waiting state and the safety plan in the engine (no database)."""

from __future__ import annotations

from pathlib import Path

from bot.content import Content
from bot.escalation.crisis import crisis_detector
from bot.flows import State
from bot.flows.types import RaiseSignal, SaveSafetyPlan, StartWaiting
from tests.flows.chat import EngineChat, text_of

CRISIS = Path(__file__).resolve().parents[2] / "config" / "crisis"


def waiting_chat(content: Content) -> EngineChat:
    chat = EngineChat(content, detect_crisis=crisis_detector(CRISIS))
    chat.to_menu()
    chat.say("/phq9")
    for _ in range(8):
        chat.say("0")
    chat.say("1")
    assert chat.conv.state is State.WAITING
    return chat


def test_item9_starts_waiting_with_the_configured_check_ins(content: Content) -> None:
    chat = waiting_chat(content)
    [start] = chat.effects_of(StartWaiting)
    assert start.checkins == (10, 30) and start.expect_minutes == 15


def test_words_about_means_in_the_plan_are_kept_and_still_raise_a_signal(
    content: Content,
) -> None:
    chat = waiting_chat(content)
    chat.say("1")
    for answer in ("no dormir", "caminar", "mi tía", "Lucía", "paso"):
        chat.say(answer)
    before = len(chat.effects_of(RaiseSignal))
    step = chat.say("Pedirle a mi hermano que guarde las pastillas")
    [plan] = chat.effects_of(SaveSafetyPlan)
    assert plan.steps["safe_environment"] == "Pedirle a mi hermano que guarde las pastillas"
    assert len(chat.effects_of(RaiseSignal)) >= before  # detection ran on it, as on every message
    assert "Guardamos su plan" in text_of(step)
    assert chat.conv.state is State.WAITING


def test_stop_and_delete_still_work_while_waiting(content: Content) -> None:
    chat = waiting_chat(content)
    chat.say("SALIR")
    assert chat.conv.state is State.STOPPED
    chat = waiting_chat(content)
    chat.say("borrar")
    assert chat.conv.state is State.CONFIRM_DELETE
    back = chat.say("2")  # keep my data
    assert chat.conv.state is State.WAITING and "No borramos nada" in text_of(back)


def test_asking_for_a_psychologist_waits_on_request_and_may_go_back_to_the_menu(
    content: Content,
) -> None:
    chat = EngineChat(content, detect_crisis=crisis_detector(CRISIS))
    chat.to_menu()
    step = chat.say("5")  # Hablar con un psicólogo
    [signal] = chat.effects_of(RaiseSignal)
    assert (signal.rule_id, signal.priority) == ("request.talk_to_psychologist", "routine")
    [start] = chat.effects_of(StartWaiting)
    assert chat.conv.state is State.WAITING
    said = text_of(step)
    # Routine: no roster here, the default chain's time (24 h), said in hours, no "alerted".
    assert start.expect_minutes == 24 * 60 and "próximas 24 horas" in said
    assert "ya fue avisado" not in said and "SAMU 106" in said
    assert [c.key for c in step.replies[-1].choices] == ["1", "2", "3"]
    step = chat.say("¿cuándo me escriben?")
    assert "próximas 24 horas" in text_of(step) and "fue avisado" not in text_of(step)
    step = chat.say("3")  # back to the menu; the request stands
    assert chat.conv.state is State.MENU
    assert "sigue registrado" in text_of(step)
    assert len(chat.effects_of(RaiseSignal)) == 1


def test_waiting_after_a_disclosure_offers_no_way_back_to_the_menu(content: Content) -> None:
    chat = waiting_chat(content)
    step = chat.say("hola")
    assert [c.key for c in step.replies[-1].choices] == ["1", "2"]
    chat.say("3")
    assert chat.conv.state is State.WAITING


def test_a_crisis_while_waiting_on_request_removes_the_way_back(content: Content) -> None:
    chat = EngineChat(content, detect_crisis=crisis_detector(CRISIS))
    chat.to_menu()
    chat.say("5")
    assert "3" in [c.key for c in chat.say("hola").replies[-1].choices]
    step = chat.say("me quiero matar")
    assert "113" in text_of(step) and chat.conv.state is State.WAITING
    assert [c.key for c in step.replies[-1].choices] == ["1", "2"]
    chat.say("3")
    assert chat.conv.state is State.WAITING
