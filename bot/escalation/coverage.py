"""Checks of the on-call roster: coverage gaps, unreachable psychologists, and a source that
reloads the file when it changes (keeping the last valid roster when an edit is invalid)."""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from bot.escalation.roster import Roster, load_roster
from bot.escalation.roster_file import DAYS, RosterError

log = logging.getLogger(__name__)

#: A Monday, to lay the weekly shifts out on (the zone has no daylight saving to worry about;
#: a zone with it is still handled, as every instant is converted on its own).
_WEEK_START = datetime(2024, 1, 1)


@dataclass(frozen=True)
class Gap:
    start: datetime
    end: datetime


def gaps(roster: Roster, start: datetime, end: datetime) -> list[Gap]:
    """Stretches of ``[start, end)`` with no primary on call (overrides and run-time changes
    included)."""
    if roster.always_on_call and not roster.boundaries():
        return []
    ordered = roster.change_points(start, end)
    found: list[Gap] = []
    for a, b in itertools.pairwise(ordered):
        if b <= a or roster.on_call(a + (b - a) / 2).primary:
            continue
        if found and found[-1].end == a:
            found[-1] = Gap(found[-1].start, b)
        else:
            found.append(Gap(a, b))
    return found


def weekly_gaps(roster: Roster) -> list[str]:
    """The weekly shifts' gaps as text, e.g. ``sat 20:00 – mon 08:00`` (overrides aside)."""
    if roster.always_on_call or not roster.data.shifts:
        return []
    plain = Roster(roster.data.model_copy(update={"overrides": []}), roster.source)
    start = _WEEK_START.replace(tzinfo=roster.zone)
    end = start + timedelta(days=7)
    found = gaps(plain, start, end)
    if len(found) > 1 and found[0].start == start and found[-1].end == end:
        # One gap across the week's edge (e.g. the weekend): Saturday … to Monday …
        found = [*found[1:-1], Gap(found[-1].start, found[0].end + timedelta(days=7))]
    return [
        f"{_label(g.start.astimezone(roster.zone))} – {_label(g.end.astimezone(roster.zone))}"
        for g in found
    ]


def _label(at: datetime) -> str:
    return f"{DAYS[at.weekday()]} {at:%H:%M}"


def unreachable(roster: Roster, channels: Collection[str]) -> list[str]:
    """Ids of psychologists with no contact on a channel this service can send on."""
    return [
        p.id
        for p in roster.people.values()
        if not any(channel in channels for channel, _ in p.contacts.ordered())
    ]


def warnings(roster: Roster, channels: Collection[str]) -> list[str]:
    """Start-up warnings: gaps in the weekly cover, unreachable psychologists, no supervisor."""
    found = [f"on-call gap (no primary): {gap}" for gap in weekly_gaps(roster)]
    for pid in unreachable(roster, channels):
        usable = ", ".join(sorted(channels)) or "none configured"
        found.append(f"psychologist {pid!r} has no reachable contact (usable channels: {usable})")
    has_supervisor = (
        roster.data.supervisors
        or any(s.supervisor for s in roster.data.shifts)
        or any(o.supervisor for o in roster.data.overrides)
    )
    if not has_supervisor and not roster.always_on_call:
        found.append("no supervisor: supervisor steps of the chain page everyone on call")
    return found


class RosterSource:
    """The roster from ``path``, reloaded when the file changes. An invalid edit is logged
    and the last valid roster stays in use, so a typo never stops a running escalation."""

    def __init__(self, path: Path, *, loader: Callable[[Path], Roster] = load_roster) -> None:
        self.path = path
        self._loader = loader
        self._lock = threading.Lock()
        self._roster: Roster | None = None
        self._stamp: tuple[float, int] | None = None
        self.error: str | None = None

    @classmethod
    def fixed(cls, roster: Roster) -> RosterSource:
        source = cls(Path(roster.source or "roster"))
        source._roster = roster
        source._stamp = (-1.0, -1)
        source._loader = lambda _path: roster
        return source

    def current(self) -> Roster | None:
        with self._lock:
            if self._stamp == (-1.0, -1):
                return self._roster
            try:
                stat = self.path.stat()
                stamp = (stat.st_mtime, stat.st_size)
            except OSError:
                stamp = None
            if stamp is not None and stamp == self._stamp:
                return self._roster
            try:
                self._roster = self._loader(self.path)
                self._stamp = stamp
                self.error = None
            except RosterError as exc:
                if self.error != str(exc):
                    log.error("on-call roster invalid; keeping the last valid one: %s", exc)
                self.error = str(exc)
                self._stamp = stamp
            return self._roster

    def require(self) -> Roster:
        roster = self.current()
        if roster is None:
            raise RosterError(self.error or f"{self.path}: no valid roster")
        return roster
