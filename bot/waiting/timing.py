"""Roughly when a waiting person can expect a psychologist: the time the roster's chain for
that priority gives the on-call team to acknowledge (its steps once through), walked the way
the escalation timers walk it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from math import ceil

from bot.escalation.context import Escalation
from bot.escalation.roster import Roster
from bot.escalation.roster_file import DEFAULT_CHAINS, Chain
from bot.escalation.timers import wait_end


def chain_end(chain: Chain, now: datetime, roster: Roster | None) -> datetime:
    """When the chain's last step's wait runs out, if nobody acknowledges: each step starts
    when the one before it ends (a ``working_hours`` step outside working hours starts on the
    next working morning), and each ``next_working_morning`` wait is counted from its own
    step, so a weekend is counted once."""
    cursor = now
    for step in chain.steps:
        if step.during == "working_hours" and roster and not roster.is_working_time(cursor):
            cursor = roster.next_working_morning(cursor)  # as the timers defer such a step
        cursor = wait_end(roster, step, cursor)
    return cursor


def chain_minutes(chain: Chain, now: datetime, roster: Roster | None) -> int:
    return max(1, ceil((chain_end(chain, now, roster) - now).total_seconds() / 60))


def expected_minutes(esc: Escalation) -> Callable[[str, datetime], int]:
    def expect(priority: str, now: datetime) -> int:
        roster = esc.roster
        chain = DEFAULT_CHAINS[priority] if roster is None else roster.chain(priority)
        return chain_minutes(chain, now, roster)

    return expect
