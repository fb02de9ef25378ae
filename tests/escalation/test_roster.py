"""The on-call roster file: schema, who is on call when (Lima time), checks, reloading."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from bot.escalation import coverage
from bot.escalation.roster import load_roster, parse_roster
from bot.escalation.roster_file import DEFAULT_CHAINS, RosterError
from bot.settings import ROOT

PEOPLE = [
    {"id": "ana", "name": "Ana", "contacts": {"telegram_chat_id": 11}},
    {"id": "luis", "name": "Luis", "contacts": {"sms": "+15555550102"}},
    {"id": "rosa", "name": "Rosa", "contacts": {"whatsapp": "whatsapp:+15555550104"}},
]
LIMA_OFFSET = timezone(timedelta(hours=-5))
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


def lima(day: int, hour: int, minute: int = 0) -> datetime:
    """November 2026 in Lima (UTC-5 all year): the 16th is a Monday."""
    return datetime(2026, 11, day, hour, minute, tzinfo=LIMA_OFFSET)


def roster(**extra: Any) -> Any:
    return parse_roster({"psychologists": PEOPLE, **extra})


SHIFTS = [
    {"days": WEEKDAYS, "start": "08:00", "end": "20:00", "primary": "ana", "backup": "luis"},
    {"days": WEEKDAYS, "start": "20:00", "end": "08:00", "primary": "luis", "backup": "ana"},
]


def test_only_psychologists_means_everyone_always_on_call() -> None:
    r = roster()
    assert r.always_on_call
    for at in (lima(16, 3), lima(21, 15), lima(22, 23, 59)):
        assert r.on_call(at).primary == ("ana", "luis", "rosa")
    assert r.resolve(["primary"], lima(16, 3)) == ("ana", "luis", "rosa")
    assert r.chain("imminent") == DEFAULT_CHAINS["imminent"]
    assert coverage.gaps(r, lima(16, 0), lima(23, 0)) == []


def test_a_night_shift_runs_past_midnight() -> None:
    r = roster(shifts=SHIFTS, supervisors=["rosa"])
    assert r.on_call(lima(16, 19, 59)).primary == ("ana",)
    assert r.on_call(lima(16, 20, 0)).primary == ("luis",)
    assert r.on_call(lima(16, 23, 59)).primary == ("luis",)
    assert r.on_call(lima(17, 0, 0)).primary == ("luis",)  # Monday's shift, on Tuesday
    assert r.on_call(lima(17, 7, 59)).primary == ("luis",)
    assert r.on_call(lima(17, 8, 0)).primary == ("ana",)
    # Friday night ends Saturday 08:00; nothing starts on Saturday.
    assert r.on_call(lima(21, 7, 0)).primary == ("luis",)
    assert r.on_call(lima(21, 9, 0)).primary == ()
    assert r.on_call(lima(16, 12)).supervisor == ("rosa",)


def test_lima_has_no_daylight_saving() -> None:
    r = roster(shifts=SHIFTS)
    # 13:00 UTC is 08:00 in Lima on a Tuesday in January and in July alike.
    for month in (1, 4, 7, 10):
        day = next(d for d in range(1, 8) if datetime(2026, month, d).weekday() == 1)
        at = datetime(2026, month, day, 13, 0, tzinfo=UTC)
        assert r.on_call(at).primary == ("ana",), month
        assert r.on_call(at.replace(minute=0, hour=12, second=59)).primary == ("luis",)


def test_overrides_win_over_shifts() -> None:
    override = {"start": "2026-11-18T08:00", "end": "2026-11-19T08:00", "primary": "rosa"}
    r = roster(shifts=SHIFTS, overrides=[override])
    assert r.on_call(lima(18, 12)).primary == ("rosa",)
    assert r.on_call(lima(18, 12)).backup == ()
    assert r.on_call(lima(19, 8)).primary == ("ana",)


def test_weekly_gaps_and_unreachable_psychologists_are_reported() -> None:
    r = roster(shifts=SHIFTS)
    assert coverage.weekly_gaps(r) == ["sat 08:00 – mon 08:00"]
    warnings = coverage.warnings(r, {"telegram"})
    assert "on-call gap (no primary): sat 08:00 – mon 08:00" in warnings
    assert any("'luis' has no reachable contact" in w for w in warnings)
    assert any("'rosa' has no reachable contact" in w for w in warnings)
    assert any("no supervisor" in w for w in warnings)
    assert coverage.unreachable(r, {"telegram", "sms", "whatsapp"}) == []
    found = coverage.gaps(r, lima(20, 12), lima(23, 12))
    assert [(g.start, g.end) for g in found] == [(lima(21, 8), lima(23, 8))]


def test_working_mornings() -> None:
    r = roster()
    assert r.next_working_morning(lima(19, 23)) == lima(20, 8)  # Thursday night → Friday
    assert r.next_working_morning(lima(20, 9)) == lima(23, 8)  # Friday → Monday
    assert r.next_working_morning(lima(23, 7, 59)) == lima(23, 8)
    assert r.is_working_time(lima(23, 8)) and not r.is_working_time(lima(22, 10))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"psychologists": []}, "psychologists"),
        ({"shifts": [{**SHIFTS[0], "primary": "nobody"}]}, "unknown psychologist"),
        ({"supervisors": ["ghost"]}, "unknown psychologist"),
        ({"pager": True}, "pager"),
        ({"timezone": "Mars/Olympus"}, "time zone"),
        (
            {"escalation": {"imminent": {"steps": [{"notify": ["primary"], "wait": "soon"}]}}},
            "wait",
        ),
        ({"escalation": {"urgent": {"steps": [{"notify": ["primary"]}]}}}, "urgent"),
        ({"overrides": [{"start": "2026-11-19", "end": "2026-11-18", "primary": "ana"}]}, "after"),
    ],
)
def test_invalid_files_are_refused_with_the_field(change: dict[str, Any], message: str) -> None:
    with pytest.raises(RosterError, match=message):
        parse_roster({"psychologists": PEOPLE, **change})


def test_contacts_are_checked() -> None:
    for contacts in ({"sms": "987654321"}, {"telegram_chat_id": -5}, {"email": "a@b.pe"}):
        with pytest.raises(RosterError):
            parse_roster({"psychologists": [{"id": "x", "name": "X", "contacts": contacts}]})
    twins = [{**PEOPLE[0]}, {**PEOPLE[0], "id": "ana2"}]
    with pytest.raises(RosterError, match="telegram_chat_id"):
        parse_roster({"psychologists": twins})


def test_unquoted_times_read_by_yaml_as_numbers(tmp_path: Path) -> None:
    path = tmp_path / "oncall.yaml"
    path.write_text(
        "psychologists:\n  - {id: ana, name: Ana, contacts: {telegram_chat_id: 1}}\n"
        "shifts:\n  - {days: [mon], start: 8:30, end: 20:15, primary: ana}\n",
        encoding="utf-8",
    )
    r = load_roster(path)
    assert (r.data.shifts[0].start.isoformat(), r.data.shifts[0].end.isoformat()) == (
        "08:30:00",
        "20:15:00",
    )


def test_the_example_file_is_valid_and_covers_the_week() -> None:
    r = load_roster(ROOT / "config" / "oncall.yaml")
    assert coverage.warnings(r, {"telegram", "whatsapp", "sms"}) == []
    assert r.chain("routine").steps[0].wait == "next_working_morning"


def test_an_invalid_edit_keeps_the_last_valid_roster(tmp_path: Path) -> None:
    path = tmp_path / "oncall.yaml"
    path.write_text("psychologists:\n  - {id: ana, name: Ana}\n", encoding="utf-8")
    source = coverage.RosterSource(path)
    first = source.current()
    assert first is not None and list(first.people) == ["ana"]
    path.write_text("psychologists: nope\n", encoding="utf-8")
    os.utime(path, (1, 1))
    assert source.current() is first and source.error
    path.write_text("psychologists:\n  - {id: luis, name: Luis}\n", encoding="utf-8")
    assert list(source.require().people) == ["luis"] and source.error is None
