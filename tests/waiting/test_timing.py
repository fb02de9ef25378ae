"""How long a waiting person is told to expect: the roster's chain walked as the timers walk it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.content import load_content
from bot.escalation.roster import Roster, load_roster
from bot.escalation.roster_file import DEFAULT_CHAINS, Chain, ChainStep
from bot.flows import State
from bot.waiting.timing import chain_end, chain_minutes
from tests.flows.chat import EngineChat, text_of

CONFIG = Path(__file__).resolve().parents[2] / "config"
LIMA = timedelta(hours=-5)  # America/Lima, no daylight saving


def lima(day: int, hour: int, minute: int = 0) -> datetime:
    """A December 2026 local time in Lima, as UTC (4 Dec 2026 is a Friday)."""
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC) - LIMA


@pytest.fixture
def roster() -> Roster:
    return load_roster(CONFIG / "oncall.yaml")


def test_routine_on_a_friday_afternoon_counts_the_weekend_once(roster: Roster) -> None:
    # Step 1 pages now, waits to Monday 08:00; step 2 waits to Tuesday; step 3 to Wednesday.
    now = lima(4, 15)
    assert chain_end(roster.chain("routine"), now, roster) == lima(9, 8)
    assert chain_minutes(roster.chain("routine"), now, roster) == (4 * 24 + 17) * 60


def test_routine_on_a_saturday_waits_for_monday_before_the_first_page(roster: Roster) -> None:
    now = lima(5, 10)
    # Deferred to Monday 08:00, then Tuesday, Wednesday and Thursday mornings.
    assert chain_end(roster.chain("routine"), now, roster) == lima(10, 8)


def test_routine_on_a_tuesday_morning_is_three_working_mornings(roster: Roster) -> None:
    now = lima(8, 9, 30)
    assert chain_end(roster.chain("routine"), now, roster) == lima(11, 8)


def test_routine_late_on_a_weekday_defers_the_first_page_to_the_morning(roster: Roster) -> None:
    now = lima(8, 22)  # Tuesday 22:00: outside working hours
    assert chain_end(roster.chain("routine"), now, roster) == lima(12, 8) + timedelta(days=2)


def test_minute_waits_add_up_whatever_the_hour(roster: Roster) -> None:
    for now in (lima(4, 15), lima(5, 3)):
        assert chain_minutes(roster.chain("imminent"), now, roster) == 6
        assert chain_minutes(roster.chain("high"), now, roster) == 15
        assert chain_minutes(roster.chain("moderate"), now, roster) == 90


def test_without_a_roster_a_next_morning_wait_is_twelve_hours() -> None:
    chain = Chain(steps=[ChainStep(notify=["all"], wait="next_working_morning")] * 2)
    assert chain_minutes(chain, lima(4, 15), None) == 24 * 60
    # The default routine chain (three steps) without a roster: three 12-hour waits.
    assert chain_minutes(DEFAULT_CHAINS["routine"], lima(4, 15), None) == 36 * 60


def test_a_friday_request_is_told_five_days_not_nine(roster: Roster) -> None:
    """What the person reads: the sample roster's routine chain from Friday 15:00 ends on
    Wednesday 08:00 (113 hours), said as "5 días"; counting the weekend three times gave 9."""
    chat = EngineChat(
        load_content(CONFIG),
        expect_minutes=lambda priority, now: chain_minutes(roster.chain(priority), now, roster),
        now=lima(4, 15) - timedelta(minutes=1),
    )
    chat.to_menu()
    said = text_of(chat.say("5"))  # Hablar con un psicólogo
    assert chat.conv.state is State.WAITING
    assert "próximos 5 días" in said, said
