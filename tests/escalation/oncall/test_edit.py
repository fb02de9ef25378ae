"""Adding and undoing on-call changes: validated, audited, in force at once for new cases in
every process, kept across restarts."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.db.engine import make_engine
from bot.escalation.oncall import edit
from bot.escalation.oncall.models import OnCallAudit
from tests.escalation.support import ANA, LUIS, PERSON, ROSA, Clock, Desk, make_settings

#: T0 is Thursday 2026-11-19 15:00 in Lima.
TONIGHT = datetime(2026, 11, 19, 20, 0)
TOMORROW = datetime(2026, 11, 20, 8, 0)


def cover(
    desk: Desk,
    who: str,
    covers: str | None,
    start: datetime = TONIGHT,
    end: datetime = TOMORROW,
    actor: str = "dashboard:rosa",
) -> edit.Outcome:
    req = edit.request(kind="cover", psychologist_id=who, covers=covers, start=start, end=end)
    return edit.add(desk.runtime.escalation, req, actor)


def alert_for_new_case(desk: Desk, chat: int = PERSON) -> dict[int, list[str]]:
    desk.new_alerts()
    desk.to_menu(chat)
    desk.say(chat, "me quiero matar")
    desk.tick()
    return desk.new_alerts()


def test_a_cover_pages_the_cover_for_new_cases_in_its_window_only(desk: Desk) -> None:
    outcome = cover(desk, "luis", "ana")
    assert outcome.gaps == []
    assert [s.on_call.primary for s in outcome.before] == [("ana",)]
    assert [s.on_call.primary for s in outcome.after] == [("luis",)]
    assert set(alert_for_new_case(desk, 4001)) == {ANA}  # 15:00: not yet
    desk.clock.advance(hours=6)  # 21:00
    assert set(alert_for_new_case(desk, 4002)) == {LUIS}


def test_away_and_undo_are_audited_with_before_and_after(desk: Desk) -> None:
    esc = desk.runtime.escalation
    req = edit.request(
        kind="away", psychologist_id="ana", start=TONIGHT, end=TOMORROW, note="enferma"
    )
    added = edit.add(esc, req, "dashboard:rosa")
    desk.clock.advance(hours=6)
    assert set(alert_for_new_case(desk, 4003)) == {LUIS}  # the backup is promoted
    edit.undo(esc, added.change.id, "telegram:rosa")
    assert set(alert_for_new_case(desk, 4004)) == {ANA}
    with pytest.raises(edit.ChangeError) as again:
        edit.undo(esc, added.change.id, "telegram:rosa")
    assert again.value.code == "already_undone"
    with Session(desk.db) as session:
        audit = session.exec(select(OnCallAudit).order_by(col(OnCallAudit.id))).all()
    assert [(a.actor, a.action) for a in audit] == [
        ("dashboard:rosa", "add"),
        ("telegram:rosa", "undo"),
    ]
    assert audit[0].before[0]["primary"] == ["ana"]
    assert audit[0].after[0]["primary"] == ["luis"]
    assert audit[1].before[0]["primary"] == ["luis"]
    assert audit[1].after[0]["primary"] == ["ana"]


@pytest.mark.parametrize(
    ("values", "code", "field"),
    [
        ({"psychologist_id": "pedro", "covers": "ana"}, "unknown_id", "psychologist_id"),
        ({"psychologist_id": "luis", "covers": "pedro"}, "unknown_id", "covers"),
        ({"psychologist_id": "luis", "covers": "luis"}, "same_person", "covers"),
        ({"psychologist_id": "luis", "covers": "rosa", "start": TONIGHT}, None, None),
        ({"psychologist_id": "Luis Test", "covers": "ana"}, "invalid", "psychologist_id"),
        ({"psychologist_id": "luis", "covers": "ana", "end": TONIGHT}, "end_before_start", "end"),
        (
            {"psychologist_id": "luis", "covers": "ana", "end": TONIGHT + timedelta(days=40)},
            "too_long",
            "end",
        ),
        (
            {
                "psychologist_id": "luis",
                "covers": "ana",
                "start": TONIGHT - timedelta(days=2),
                "end": TONIGHT - timedelta(days=1),
            },
            "in_past",
            "end",
        ),
        ({"psychologist_id": "luis", "covers": "ana", "extra": 1}, "invalid", "extra"),
    ],
)
def test_changes_are_validated_like_the_file(
    desk: Desk, values: dict[str, object], code: str | None, field: str | None
) -> None:
    data = {"kind": "cover", "start": TONIGHT, "end": TOMORROW, **values}
    if code is None:  # rosa is the supervisor: covering her is allowed
        edit.add(desk.runtime.escalation, edit.request(**data), "dashboard:rosa")
        return
    with pytest.raises(edit.ChangeError) as refused:
        edit.add(desk.runtime.escalation, edit.request(**data), "dashboard:rosa")
    assert (refused.value.code, refused.value.field) == (code, field)


def test_covering_someone_not_on_call_then_is_refused(
    tmp_path: Path, database_url: str, db: Engine, clock: Clock
) -> None:
    from tests.escalation.support import ROSTER, write_roster

    roster = {
        **ROSTER,
        "psychologists": [
            *ROSTER["psychologists"],
            {"id": "carmen", "name": "Carmen", "contacts": {"sms": "+15555550103"}},
        ],
    }
    desk = Desk.build(
        make_settings(database_url, write_roster(tmp_path / "r.yaml", roster)), db, clock
    )
    with pytest.raises(edit.ChangeError) as refused:
        cover(desk, "luis", "carmen")
    assert (refused.value.code, refused.value.params) == ("not_on_call", {"id": "carmen"})
    req = edit.request(kind="away", psychologist_id="carmen", start=TONIGHT, end=TOMORROW)
    with pytest.raises(edit.ChangeError):
        edit.add(desk.runtime.escalation, req, "dashboard:rosa")


def test_another_process_sees_the_change_at_once_and_a_restart_keeps_it(
    desk: Desk, database_url: str, roster_file: Path, clock: Clock
) -> None:
    other_engine = make_engine(database_url)
    try:
        other = Desk.build(make_settings(database_url, roster_file), other_engine, clock)
        clock.advance(hours=6)  # 21:00: Ana's shift
        assert other.runtime.escalation.roster.on_call(clock()).primary == ("ana",)  # type: ignore[union-attr]
        cover(desk, "luis", "ana")
        assert other.runtime.escalation.roster.on_call(clock()).primary == ("luis",)  # type: ignore[union-attr]
        other.runtime.close()
        restarted = Desk.build(make_settings(database_url, roster_file), other_engine, clock)
        assert restarted.runtime.escalation.roster.on_call(clock()).primary == ("luis",)  # type: ignore[union-attr]
        assert set(alert_for_new_case(restarted, 4005)) == {LUIS}
        assert ROSA not in alert_for_new_case(restarted, 4006)
    finally:
        other_engine.dispose()
