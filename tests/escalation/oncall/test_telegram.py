"""On-call changes from a psychologist's Telegram chat (through the real inbox step)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.dashboard.accounts import Accounts
from bot.escalation.oncall.telegram import parse_window
from tests.escalation.support import ANA, LUIS, ROSA, Desk


def reply(desk: Desk, chat: int, text: str) -> str:
    desk.send(chat, text)
    return [row.text for row in desk.outbox("staff_reply", chat=chat)][-1]


def primary_at(desk: Desk, hours: float) -> tuple[str, ...]:
    roster = desk.runtime.escalation.roster
    assert roster is not None
    return roster.on_call(desk.clock() + timedelta(hours=hours)).primary


def test_a_supervisor_covers_and_undoes_from_telegram(desk: Desk) -> None:
    # 15:00 in Lima; Ana is primary around the clock, Rosa the file's supervisor
    added = reply(desk, ROSA, "/cubrir luis ana 20:00 08:00 gripe")
    assert added.startswith(
        "Cambio #1 guardado: Luis Test cubre a Ana Test, 19/11 20:00 – 20/11 08:00."
    )
    assert primary_at(desk, 6) == ("luis",)
    assert primary_at(desk, 1) == ("ana",)
    listing = reply(desk, ANA, "/guardia")
    assert listing.splitlines()[0] == "De turno ahora: Ana Test (respaldo: Luis Test)"
    assert "#1 Luis Test cubre a Ana Test" in listing
    assert reply(desk, ROSA, "/deshacer").startswith("Cambio #1 deshecho")
    assert primary_at(desk, 6) == ("ana",)
    assert reply(desk, ROSA, "/deshacer") == "No tienes cambios vigentes que deshacer."


def test_only_supervisors_change_and_mistakes_are_explained(desk: Desk) -> None:
    assert reply(desk, ANA, "/away luis 20:00 08:00").startswith("Solo la supervisión")
    assert primary_at(desk, 6) == ("ana",)
    # a dashboard supervisor linked to the psychologist id may
    Accounts(desk.db).create_user(
        "luis", "a long enough password", "supervisor", psychologist_id="luis"
    )
    away = reply(desk, LUIS, "/ausente ana 20:00 08:00")
    assert away.startswith("Cambio #1 guardado: Ana Test no disponible")
    assert primary_at(desk, 6) == ("luis",)
    assert reply(desk, LUIS, "/cubrir luis luis 20:00 08:00") == (
        "No se guardó: nadie puede cubrirse a sí mismo."
    )
    assert reply(desk, LUIS, "/cubrir pedro 20:00 08:00").startswith("Guardias")  # usage
    assert reply(desk, LUIS, "/deshacer 99") == "No se guardó: no existe el cambio 99."
    assert "/guardia" in reply(desk, ANA, "hola")  # the staff help mentions them


def test_windows_are_read_in_local_time() -> None:
    afternoon = datetime(2026, 11, 19, 15, 0)
    tonight = parse_window(["20:00", "08:00"], afternoon)
    assert tonight and (tonight.start, tonight.end) == (
        datetime(2026, 11, 19, 20, 0),
        datetime(2026, 11, 20, 8, 0),
    )
    late = parse_window(["09:00", "13:00", "a", "note"], afternoon)  # already over: tomorrow
    assert late and (late.start, late.end, late.note) == (
        datetime(2026, 11, 20, 9, 0),
        datetime(2026, 11, 20, 13, 0),
        "a note",
    )
    dated = parse_window(["2026-12-24", "20:00", "20:00"], afternoon)
    assert dated and (dated.start, dated.end) == (
        datetime(2026, 12, 24, 20, 0),
        datetime(2026, 12, 25, 20, 0),
    )
    now = parse_window(["ahora", "18:00"], afternoon)
    assert now and (now.start, now.end) == (afternoon, datetime(2026, 11, 19, 18, 0))
    assert parse_window(["25:00", "08:00"], afternoon) is None
    assert parse_window(["20:00"], afternoon) is None


def test_a_chat_not_on_the_roster_changes_nothing(desk: Desk) -> None:
    desk.say(555777, "/cubrir luis ana 20:00 08:00")
    assert desk.outbox("staff_reply") == []
    assert primary_at(desk, 6) == ("ana",)
