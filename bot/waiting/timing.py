"""Roughly when a waiting person can expect a psychologist: the time the roster's chain for
that priority gives the on-call team to acknowledge (its steps once through)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from math import ceil

from bot.escalation.context import Escalation
from bot.escalation.roster_file import DEFAULT_CHAINS, NEXT_WORKING_MORNING, Chain, wait_seconds


def chain_minutes(chain: Chain, now: datetime, next_morning: datetime | None) -> int:
    seconds = 0.0
    for step in chain.steps:
        if step.wait == NEXT_WORKING_MORNING:
            seconds += (next_morning - now).total_seconds() if next_morning else 12 * 3600
        else:
            seconds += wait_seconds(step.wait)
    return max(1, ceil(seconds / 60))


def expected_minutes(esc: Escalation) -> Callable[[str, datetime], int]:
    def expect(priority: str, now: datetime) -> int:
        roster = esc.roster
        if roster is None:
            return chain_minutes(DEFAULT_CHAINS[priority], now, None)
        return chain_minutes(roster.chain(priority), now, roster.next_working_morning(now))

    return expect
