"""Psychologists' Telegram commands and buttons, through the inbox step."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from bot.db.models import Participant, RiskSignal
from tests.escalation.support import ANA, LUIS, PERSON, ROSTER, Desk, write_roster


def staff_replies(desk: Desk, chat: int, text: str = "", payload: str | None = None) -> list[str]:
    desk.send(chat, text, payload)
    return [row.text for row in desk.outbox("staff_reply", chat=chat)][-1:]


def open_case(desk: Desk, chat: int = PERSON, *texts: str) -> int:
    desk.to_menu(chat)
    desk.say(chat, *(texts or ("me quiero matar",)))
    desk.tick()
    return max(c.id or 0 for c in desk.cases())


def test_cases_lists_the_open_queue_most_urgent_first(desk: Desk) -> None:
    [empty] = staff_replies(desk, ANA, "/cases")
    assert empty == "No hay casos abiertos."
    routine = open_case(desk, 3001, "5")  # menu 5: talk to a psychologist
    urgent = open_case(desk, 3002, "me quiero matar", "1")
    [listing] = staff_replies(desk, ANA, "/casos")
    lines = listing.splitlines()
    assert lines[0] == "Casos abiertos (2):"
    assert lines[1].startswith(f"#{urgent} 🔴 INMINENTE · sin atender")
    assert lines[2].startswith(f"#{routine} 🔵 RUTINA")


def test_ack_resolve_with_outcome_buttons(desk: Desk) -> None:
    case_id = open_case(desk)
    assert staff_replies(desk, ANA, "/ack 999") == ["No existe el caso #999."]
    [taken] = staff_replies(desk, ANA, f"/ack {case_id}")
    assert taken.startswith(f"Caso #{case_id}: lo atiendes tú.")
    [other] = staff_replies(desk, LUIS, "", f"case:ack:{case_id}")
    assert other == f"Caso #{case_id}: ya lo atiende Ana Test."
    desk.send(ANA, "", f"case:res:{case_id}")
    [ask] = desk.outbox("staff_reply", chat=ANA)[-1:]
    assert "¿cómo se cerró?" in ask.text
    assert [c["payload"] for c in ask.choices][:2] == [
        f"case:res:{case_id}:contacted",
        f"case:res:{case_id}:referred_csmc",
    ]
    [bad] = staff_replies(desk, ANA, f"/resolve {case_id} maybe later")
    assert bad.startswith("Resultado desconocido")
    assert desk.case().status == "acknowledged"
    [done] = staff_replies(desk, ANA, "", f"case:res:{case_id}:emergency_services")
    assert done == f"Caso #{case_id} cerrado (servicios de emergencia)."
    assert (desk.case().status, desk.case().outcome) == ("resolved", "emergency_services")
    [again] = staff_replies(desk, ANA, f"/resolve {case_id} contacted")
    assert again == f"Caso #{case_id}: ya está cerrado."
    assert desk.case().outcome == "emergency_services"


def test_reply_reaches_the_person_and_staff_words_raise_no_signal(desk: Desk) -> None:
    case_id = open_case(desk)
    desk.say(PERSON, "2")  # acuity: no
    with Session(desk.db) as session:
        before = len(session.exec(select(RiskSignal)).all())
    [sent] = staff_replies(desk, ANA, f"/reply {case_id} Hola, ¿piensas en matarte ahora?")
    assert sent.startswith(f"Mensaje enviado a la persona del caso #{case_id}")
    [to_person] = desk.outbox("psychologist_message", chat=PERSON)
    assert "¿piensas en matarte ahora?" in to_person.text
    with Session(desk.db) as session:
        assert len(session.exec(select(RiskSignal)).all()) == before
        # Staff chats never become participants.
        assert len(session.exec(select(Participant)).all()) == 1
    assert staff_replies(desk, ANA, f"/reply {case_id}") == [
        f"Escribe el texto después del número: /reply {case_id} texto"
    ]


def test_anything_else_gets_the_command_list(desk: Desk) -> None:
    [usage] = staff_replies(desk, ANA, "hola")
    assert "/cases" in usage and "/reply N" in usage and "false_alarm" in usage


def test_a_chat_removed_from_the_roster_is_refused(desk: Desk, roster_file: Path) -> None:
    case_id = open_case(desk)
    without_luis = dict(ROSTER, psychologists=ROSTER["psychologists"][::2])  # Ana and Rosa
    write_roster(roster_file, {**without_luis, "shifts": [{**ROSTER["shifts"][0], "backup": []}]})
    [refused] = staff_replies(desk, LUIS, "", f"case:ack:{case_id}")
    assert "no está en la lista de guardia" in refused
    assert desk.case().status == "open"
    assert "refused" in desk.events(case_id)
