"""After a disclosure the person waits for a human, with us (issue 11, item 1): through the
Telegram webhook, the inbox, the escalation loop and the fake Bot API, on SQLite and
PostgreSQL, with a controllable clock."""

from __future__ import annotations

from sqlmodel import Session, col, select

from bot.db.models import SafetyPlan, WaitingTimer
from bot.escalation.models import CaseEvent
from bot.runtime import build_runtime
from bot.waiting.timers import run_due
from tests.escalation import test_webhook_e2e as e2e
from tests.escalation.support import ANA, PERSON
from tests.web.webhooks_support import message, next_update_id

stack = e2e.stack
telegram_api = e2e.telegram_api
loopback_only = e2e.loopback_only
Stack = e2e.Stack

#: hola, Español, consent, the PHQ-9 with item 9 = 1: a "high" signal.
ITEM9 = ("hola", "1", "1", "/phq9", *["0"] * 8, "1")


async def disclose(stack: Stack) -> None:
    await stack.say(PERSON, *ITEM9[:4])
    await stack.settle()
    await stack.say(PERSON, *ITEM9[4:])
    await stack.settle()


def texts(stack: Stack) -> list[str]:
    return [m["text"] for m in stack.sent_to(PERSON)]


def events(stack: Stack) -> list[CaseEvent]:
    with Session(stack.desk.db) as session:
        return list(session.exec(select(CaseEvent).order_by(col(CaseEvent.id))))


async def test_the_person_is_told_when_to_expect_a_psychologist_and_what_if_not(
    stack: Stack,
) -> None:
    await disclose(stack)
    said = "\n".join(texts(stack)[-3:])
    # The test roster has no chains of its own: the default "high" chain, 3 steps of 5 minutes.
    assert "próximos 15 minutos" in said
    assert "Línea 113, opción 5" in said and "SAMU 106" in said
    assert "¿Qué le gustaría hacer?" not in said and "Hola de nuevo" not in said
    assert stack.desk.case().priority == "high"


async def test_when_will_they_write_gets_an_answer_and_no_menu(stack: Stack) -> None:
    await disclose(stack)
    before = len(texts(stack))
    stack.clock.advance(minutes=4)
    await stack.say(PERSON, "¿cuándo me va a escribir el psicólogo? me siento muy mal")
    await stack.settle()
    reply = "\n".join(texts(stack)[before:])
    assert "en los próximos 11 minutos" in reply
    assert "No reconocí" not in reply
    await stack.say(PERSON, "menú")
    await stack.settle()
    reply = "\n".join(texts(stack)[before:])
    assert "dejamos las preguntas y el menú" in reply
    assert "Revisar mi estado de ánimo" not in reply
    # Both messages joined the case for the psychologist.
    kinds = [e.kind for e in events(stack)]
    assert kinds.count("message_from_person") == 2


async def test_check_ins_and_an_honest_notice_when_nobody_acknowledges(stack: Stack) -> None:
    await disclose(stack)
    before = len(texts(stack))
    stack.clock.advance(minutes=10)
    await stack.settle()
    assert ["Sigo aquí con usted" in t for t in texts(stack)[before:]] == [True]
    stack.clock.advance(minutes=5)  # 15 minutes: the chain's first pass, nobody acknowledged
    await stack.settle()
    assert "todavía ningún psicólogo ha podido responder" in texts(stack)[-1]
    assert "113" in texts(stack)[-1]
    stack.clock.advance(minutes=15)  # 30 minutes: the second check-in
    await stack.settle()
    assert "Sigo aquí con usted" in texts(stack)[-1]
    assert len(texts(stack)) == before + 3


async def test_an_acknowledged_case_gets_no_nobody_answered_notice(stack: Stack) -> None:
    await disclose(stack)
    case_id = stack.desk.case().id
    await stack.say(ANA, f"/ack {case_id}")
    await stack.settle()
    before = len(texts(stack))
    stack.clock.advance(minutes=16)
    await stack.settle()
    new = texts(stack)[before:]
    assert len(new) == 1 and "Sigo aquí" in new[0]  # the 10-minute check-in only


async def test_a_psychologist_writing_ends_the_check_ins_and_resolving_ends_the_wait(
    stack: Stack,
) -> None:
    await disclose(stack)
    case_id = stack.desk.case().id
    await stack.say(ANA, f"/reply {case_id} Hola, soy Ana. ¿Cómo está?")
    await stack.settle()
    before = len(texts(stack))
    stack.clock.advance(minutes=40)
    await stack.settle()
    assert texts(stack)[before:] == []  # a human is with them: no automatic messages
    await stack.say(ANA, f"/resolve {case_id} contacted Conversamos")
    await stack.settle()
    await stack.say(PERSON, "hola")
    await stack.settle()
    new = "\n".join(texts(stack)[before:])
    assert "Su caso con el psicólogo del programa se cerró" in new
    assert "menu:depression" in str(stack.sent_to(PERSON)[-1])  # the menu is back


async def test_the_safety_plan_is_built_in_the_chat_and_kept_for_the_case(stack: Stack) -> None:
    await disclose(stack)
    await stack.say(PERSON, "1")  # make a safety plan
    await stack.settle()
    assert "Paso 1 de 6" in texts(stack)[-1]
    answers = [
        "no dormir",
        "caminar",
        "mi prima",
        "Rosa",
        "paso",
        "mi hermano guarda las pastillas",
    ]
    for answer in answers:
        await stack.say(PERSON, answer)
        await stack.settle()
    assert "medicamentos y los objetos cortantes" in "\n".join(texts(stack))  # means safety
    done = "\n".join(texts(stack)[-2:])
    assert "Guardamos su plan" in done and "1. no dormir" in done and "5. (sin respuesta)" in done
    with Session(stack.desk.db) as session:
        plan = session.exec(select(SafetyPlan)).one()
    assert plan.steps["safe_environment"] == "mi hermano guarda las pastillas"  # kept, though
    # the words about pills went through crisis detection like every message
    assert plan.steps["professionals"] == ""
    assert "safety_plan" in [e.kind for e in events(stack)]


async def test_crisis_words_while_waiting_raise_the_case_and_keep_the_person_waiting(
    stack: Stack,
) -> None:
    await disclose(stack)
    await stack.say(PERSON, "voy a matarme esta noche")
    await stack.settle()
    case = stack.desk.case()
    assert case.priority == "imminent"
    assert "113" in texts(stack)[-2]
    assert "sigo aquí con usted" in texts(stack)[-1].lower()


async def test_check_ins_are_durable_and_run_once_after_a_restart(stack: Stack) -> None:
    await disclose(stack)
    runtime = stack.running.runtime
    with Session(runtime.db) as session:
        pending = session.exec(select(WaitingTimer).where(WaitingTimer.status == "pending")).all()
    assert sorted(t.kind for t in pending) == ["checkin", "checkin", "no_ack"]
    # A new process (the worker after a restart) over the same database runs them.
    other = build_runtime(runtime.settings, db=runtime.db)
    other.escalation.clock = stack.clock
    stack.clock.advance(minutes=31)
    assert run_due(other.escalation, other.content) == 3
    assert run_due(runtime.escalation, runtime.content) == 0  # each timer runs once
    with Session(runtime.db) as session:
        statuses = session.exec(select(WaitingTimer.status)).all()
    assert sorted(statuses) == ["done", "done", "done"]


async def test_a_voice_note_while_waiting_gets_kind_words_the_lines_and_joins_the_case(
    stack: Stack,
) -> None:
    await disclose(stack)
    chat = {"id": PERSON, "type": "private", "first_name": "A"}
    voice = {"file_id": "v1", "file_unique_id": "w1", "duration": 3}
    await stack.post({"update_id": next_update_id(), "message": message(chat, voice=voice)})
    await stack.settle()
    reply = "\n".join(texts(stack)[-1:])
    assert "no puedo escuchar audios" in reply and "113" in reply and "106" in reply
    assert "sigo aquí con usted" in reply.lower()  # still waiting, with us
    media = [e for e in events(stack) if e.kind == "message_from_person"]
    assert [e.detail.get("media") for e in media] == ["voice"]


async def test_media_reaches_the_psychologist_who_has_the_case_on_telegram(stack: Stack) -> None:
    await disclose(stack)
    case_id = stack.desk.case().id
    await stack.say(ANA, f"/reply {case_id} Hola, soy Ana.")
    await stack.settle()
    chat = {"id": PERSON, "type": "private", "first_name": "A"}
    photo = [{"file_id": "p1", "file_unique_id": "q1", "width": 10, "height": 10}]
    await stack.post({"update_id": next_update_id(), "message": message(chat, photo=photo)})
    await stack.settle()
    note = stack.sent_to(ANA)[-1]["text"]
    assert f"Caso #{case_id}" in note and "la persona envió: foto" in note
    media = [e for e in events(stack) if e.kind == "message_from_person"]
    assert "photo" in [e.detail.get("media") for e in media]
