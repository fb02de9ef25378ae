"""The on-call roster at run time: who holds each role at an instant, who a chat or an id is,
the escalation chain of a priority and working hours (the file itself, its schema and its
reading: :mod:`bot.escalation.roster_file`).

Who is *primary*, *backup* and *supervisor* at an instant: the overrides covering it, else
the weekly shifts covering it (a shift whose end is not after its start runs past midnight
into the next day; ``days`` are the days a shift starts). Every query takes an aware
datetime; times are stored and compared in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.escalation.roster_file import (
    DAYS,
    DEFAULT_CHAINS,
    ROLES,
    Chain,
    Override,
    PsychologistEntry,
    RosterFile,
    Shift,
    parse_roster_file,
    read_roster_file,
)


@dataclass(frozen=True)
class OnCall:
    """Who holds each role at one instant (ids, in roster order, without repeats)."""

    primary: tuple[str, ...]
    backup: tuple[str, ...]
    supervisor: tuple[str, ...]

    def role(self, name: str) -> tuple[str, ...]:
        return {"primary": self.primary, "backup": self.backup, "supervisor": self.supervisor}.get(
            name, ()
        )

    @property
    def everyone(self) -> tuple[str, ...]:
        return _unique([*self.primary, *self.backup, *self.supervisor])


def _unique(ids: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(ids))


class Roster:
    """A validated roster and the questions asked of it."""

    def __init__(self, data: RosterFile, source: str = "") -> None:
        self.data = data
        self.source = source
        self.zone = ZoneInfo(data.timezone)
        self.people: dict[str, PsychologistEntry] = {p.id: p for p in data.psychologists}
        self.always_on_call = not data.shifts and not data.overrides
        self._by_chat = {
            str(p.contacts.telegram_chat_id): p.id
            for p in data.psychologists
            if p.contacts.telegram_chat_id
        }

    # --- identity -------------------------------------------------------------------------

    def get(self, psychologist_id: str) -> PsychologistEntry | None:
        return self.people.get(psychologist_id)

    def by_telegram_chat(self, chat_id: str) -> PsychologistEntry | None:
        found = self._by_chat.get(chat_id)
        return self.people[found] if found else None

    def telegram_chats(self) -> dict[str, str]:
        """chat id → psychologist id."""
        return dict(self._by_chat)

    # --- who is on call --------------------------------------------------------------------

    def on_call(self, at: datetime) -> OnCall:
        everyone = tuple(self.people)
        if self.always_on_call:
            return OnCall(everyone, (), _unique(self.data.supervisors))
        local = at.astimezone(self.zone).replace(tzinfo=None)
        overrides = [o for o in self.data.overrides if o.start <= local < o.end]
        covering: list[Shift | Override] = list(overrides) or list(self._shifts_at(local))
        primary = _unique(i for c in covering for i in c.primary)
        backup = _unique(i for c in covering for i in c.backup if i not in primary)
        supervisor = _unique(i for c in covering for i in c.supervisor) or _unique(
            self.data.supervisors
        )
        return OnCall(primary, backup, supervisor)

    def boundaries(self) -> list[datetime]:
        """Instants (aware) where a dated change begins or ends: the file's overrides here;
        changes made at run time too (``bot.escalation.oncall.changes.AdjustedRoster``)."""
        return [
            moment.replace(tzinfo=self.zone)
            for override in self.data.overrides
            for moment in (override.start, override.end)
        ]

    def change_points(self, start: datetime, end: datetime) -> list[datetime]:
        """The instants in ``[start, end]``, in order, where who is on call may change: the
        ends of the range, every shift's start and end, and ``boundaries()``. Between two
        consecutive points the on-call team is the same."""
        zone = self.zone
        points = {start, end}
        day = start.astimezone(zone).date() - timedelta(days=1)
        while datetime.combine(day, datetime.min.time(), tzinfo=zone) < end:
            for shift in self.data.shifts:
                if DAYS[day.weekday()] in shift.days:
                    begin = datetime.combine(day, shift.start, tzinfo=zone)
                    points.update({begin, begin + shift.duration()})
            day += timedelta(days=1)
        points.update(self.boundaries())
        return sorted(p for p in points if start <= p <= end)

    def _shifts_at(self, local: datetime) -> Iterable[Shift]:
        for shift in self.data.shifts:
            for start_day in (local.date(), local.date() - timedelta(days=1)):
                if DAYS[start_day.weekday()] not in shift.days:
                    continue
                start = datetime.combine(start_day, shift.start)
                if start <= local < start + shift.duration():
                    yield shift
                    break

    def resolve(self, notify: Iterable[str], at: datetime) -> tuple[str, ...]:
        """The psychologist ids a chain step names (roles resolved at ``at``)."""
        on_call = self.on_call(at)
        ids: list[str] = []
        for name in notify:
            if name == "all":
                ids.extend(on_call.everyone or tuple(self.people))
            elif name in ROLES:
                ids.extend(on_call.role(name))
            elif name in self.people:
                ids.append(name)
        return _unique(ids)

    # --- the chain ----------------------------------------------------------------------------

    def chain(self, priority: str) -> Chain:
        # The file's chains are keyed by the priority Literal; ``priority`` is any str.
        found = self.data.escalation.get(priority)  # type: ignore[call-overload]
        return found or DEFAULT_CHAINS[priority]

    def is_working_time(self, at: datetime) -> bool:
        hours = self.data.working_hours
        local = at.astimezone(self.zone)
        return DAYS[local.weekday()] in hours.days and hours.start <= local.time() < hours.end

    def next_working_morning(self, at: datetime) -> datetime:
        """The next start of working hours strictly after ``at`` (aware, in UTC terms)."""
        hours = self.data.working_hours
        local = at.astimezone(self.zone)
        for offset in range(8):
            day = local.date() + timedelta(days=offset)
            if DAYS[day.weekday()] not in hours.days:
                continue
            start = datetime.combine(day, hours.start, tzinfo=self.zone)
            if start > local:
                return start
        return local + timedelta(days=1)  # pragma: no cover  (days has at least one entry)


def parse_roster(data: Any, source: str = "") -> Roster:
    return Roster(parse_roster_file(data, source), source)


def load_roster(path: Path) -> Roster:
    return Roster(read_roster_file(path), path.name)
