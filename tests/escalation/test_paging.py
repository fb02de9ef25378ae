"""Can a new case reach a psychologist right now? (``bot.escalation.paging``)"""

from __future__ import annotations

import os
import time
from pathlib import Path

from bot.escalation import paging, service
from bot.escalation.models import PRIORITIES
from tests.escalation.support import ROSTER, Clock, Desk, make_settings, write_roster


def _kinds(desk: Desk, *, strict: bool = False) -> list[tuple[str, str | None]]:
    return [(p.kind, p.priority) for p in paging.problems(desk.runtime.escalation, strict=strict)]


def test_a_reachable_roster_has_no_problem(desk: Desk) -> None:
    assert _kinds(desk) == []


def test_nobody_with_a_usable_channel_is_an_alarm_for_every_priority(
    db: object, database_url: str, tmp_path: Path
) -> None:
    only_sms = {
        "psychologists": [{"id": "ana", "name": "Ana", "contacts": {"sms": "+15555550101"}}]
    }
    roster = write_roster(tmp_path / "oncall.yaml", only_sms)
    desk = Desk.build(make_settings(database_url, roster), db, Clock())  # type: ignore[arg-type]
    found = paging.problems(desk.runtime.escalation, strict=False)
    assert [(p.kind, p.priority) for p in found] == [("nobody_reachable", p) for p in PRIORITIES]
    assert all(p.alarm for p in found)
    assert "nobody reachable for imminent cases" in found[0].describe()


def test_no_alert_channel_is_off_in_development_and_an_alarm_in_production(
    db: object, database_url: str, tmp_path: Path
) -> None:
    roster = write_roster(tmp_path / "oncall.yaml")
    settings = make_settings(database_url, roster, telegram_bot_token=None)
    desk = Desk.build(settings, db, Clock())  # type: ignore[arg-type]
    [off] = paging.problems(desk.runtime.escalation, strict=False)
    assert off.kind == "alerts_off" and not off.alarm
    strict = paging.problems(desk.runtime.escalation, strict=True)
    assert {p.kind for p in strict} == {"nobody_reachable"} and all(p.alarm for p in strict)


def test_an_invalid_edit_keeps_the_roster_and_is_shown_but_not_an_alarm(
    desk: Desk, roster_file: Path
) -> None:
    assert desk.runtime.escalation.roster is not None  # the valid file, read once
    roster_file.write_text("psychologists: [{id: ana}]\n", encoding="utf-8")
    later = time.time() + 5
    os.utime(roster_file, (later, later))
    [edit] = paging.problems(desk.runtime.escalation, strict=False)
    assert edit.kind == "roster_edit_invalid" and not edit.alarm
    assert "oncall.yaml" in edit.detail
    assert desk.runtime.escalation.roster is not None


def test_no_valid_roster_at_all_is_an_alarm(db: object, database_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "oncall.yaml"
    bad.write_text("psychologists: []\n", encoding="utf-8")
    desk = Desk.build(make_settings(database_url, bad), db, Clock())  # type: ignore[arg-type]
    [problem] = paging.problems(desk.runtime.escalation, strict=False)
    assert problem.kind == "no_roster" and problem.alarm


def test_a_case_whose_alerts_all_failed_is_an_alarm_until_it_is_acknowledged(
    desk: Desk, roster_file: Path
) -> None:
    sms_only = [dict(p, contacts={"sms": "+15555550101"}) for p in ROSTER["psychologists"]]
    nobody = dict(ROSTER, psychologists=sms_only)
    desk.to_menu()
    write_roster(roster_file, nobody)
    later = time.time() + 5
    os.utime(roster_file, (later, later))
    desk.say(555001, "5")  # menu 5: talk to a psychologist
    desk.tick()
    [case] = desk.cases()
    kinds = _kinds(desk)
    assert ("alerts_failed", None) in kinds
    [failed] = [p for p in paging.problems(desk.runtime.escalation, strict=False) if p.cases]
    assert failed.cases == (case.id,)
    esc = desk.runtime.escalation
    service.acknowledge(esc, case.id or 0, "ana")
    assert ("alerts_failed", None) not in _kinds(desk)
