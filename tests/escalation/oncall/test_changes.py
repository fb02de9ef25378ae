"""How covers and absences change who holds each role, and the coverage segments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.escalation.oncall.changes import AdjustedRoster, Change, apply, segments
from bot.escalation.roster import OnCall, parse_roster

T = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)  # Thursday 20:00 in Lima
TEAM = OnCall(("ana",), ("luis",), ("rosa",))


def change(kind: str, who: str, covers: str | None = None, hours: int = 12, id: int = 1) -> Change:
    return Change(id, kind, who, covers, T, T + timedelta(hours=hours))


def test_a_cover_takes_the_place_of_the_person_covered_in_every_role() -> None:
    assert apply(TEAM, change("cover", "carmen", "ana")) == OnCall(
        ("carmen",), ("luis",), ("rosa",)
    )
    assert apply(TEAM, change("cover", "carmen", "rosa")).supervisor == ("carmen",)
    # the backup covering the primary is primary only, not twice
    assert apply(TEAM, change("cover", "luis", "ana")) == OnCall(("luis",), (), ("rosa",))
    # covering someone who holds no role changes nothing
    assert apply(TEAM, change("cover", "carmen", "pedro")) == TEAM


def test_a_cover_for_nobody_makes_the_primary_and_keeps_the_others_as_backup() -> None:
    assert apply(TEAM, change("cover", "carmen")) == OnCall(("carmen",), ("ana", "luis"), ("rosa",))
    assert apply(OnCall((), (), ()), change("cover", "carmen")) == OnCall(("carmen",), (), ())


def test_away_removes_the_person_and_promotes_the_backup() -> None:
    assert apply(TEAM, change("away", "ana")) == OnCall(("luis",), (), ("rosa",))
    assert apply(TEAM, change("away", "luis")) == OnCall(("ana",), (), ("rosa",))
    assert apply(OnCall(("ana",), (), ()), change("away", "ana")).primary == ()


ROSTER = {
    "psychologists": [
        {"id": p, "name": p.title(), "contacts": {"telegram_chat_id": 900000100 + i}}
        for i, p in enumerate(("ana", "luis", "carmen", "rosa"))
    ],
    "supervisors": ["rosa"],
    "shifts": [
        {
            "days": ["mon", "tue", "wed", "thu", "fri"],
            "start": "08:00",
            "end": "20:00",
            "primary": "ana",
            "backup": "luis",
        },
        {
            "days": ["mon", "tue", "wed", "thu"],
            "start": "20:00",
            "end": "08:00",
            "primary": "luis",
            "backup": "carmen",
        },
    ],
}


def test_changes_hold_only_in_their_window_and_segments_show_them_and_the_gaps() -> None:
    base = parse_roster(ROSTER)
    thursday_night = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)  # Thu 20:00 Lima
    covered = AdjustedRoster(
        base,
        [
            Change(
                1, "cover", "carmen", "luis", thursday_night, thursday_night + timedelta(hours=12)
            )
        ],
    )
    assert covered.on_call(thursday_night).primary == ("carmen",)
    assert covered.on_call(thursday_night - timedelta(minutes=1)).primary == ("ana",)
    assert covered.on_call(thursday_night + timedelta(hours=12)).primary == ("ana",)
    # Friday 20:00 to Monday 08:00 has no shift: a gap, shown as one segment
    found = segments(covered, thursday_night, thursday_night + timedelta(days=4))
    assert [(s.start, s.end, s.on_call.primary) for s in found] == [
        (thursday_night, thursday_night + timedelta(hours=12), ("carmen",)),
        (thursday_night + timedelta(hours=12), thursday_night + timedelta(hours=24), ("ana",)),
        (thursday_night + timedelta(hours=24), thursday_night + timedelta(hours=84), ()),
        (thursday_night + timedelta(hours=84), thursday_night + timedelta(hours=96), ("ana",)),
    ]
    assert [s.gap for s in found] == [False, False, True, False]
    filled = AdjustedRoster(
        base,
        [
            Change(
                2,
                "cover",
                "rosa",
                None,
                thursday_night + timedelta(hours=24),
                thursday_night + timedelta(hours=36),
            )
        ],
    )
    gaps = [
        s for s in segments(filled, thursday_night, thursday_night + timedelta(days=4)) if s.gap
    ]
    assert [(g.start, g.end) for g in gaps] == [
        (thursday_night + timedelta(hours=36), thursday_night + timedelta(hours=84))
    ]
