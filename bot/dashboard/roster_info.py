"""What the roster page and the user form need from the on-call roster
(:mod:`bot.escalation.roster`, file ``ONCALL_FILE``) and from the alerts sent so far."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from bot.escalation import coverage
from bot.escalation.models import PRIORITIES, CaseNotification, NotificationStatus
from bot.escalation.oncall import changes
from bot.escalation.roster import Roster
from bot.escalation.roster_file import RosterError

if TYPE_CHECKING:
    from bot.runtime import Runtime

HORIZON = timedelta(days=7)


@dataclass(frozen=True)
class Psychologist:
    id: str
    name: str
    #: channel -> working | failing | unknown (configured, never used yet) | unusable
    contacts: dict[str, str] = field(default_factory=dict)
    last_failure_at: datetime | None = None

    @property
    def reachable(self) -> bool:
        return any(state in ("working", "unknown") for state in self.contacts.values())


@dataclass(frozen=True)
class Shift:
    start: datetime
    end: datetime | None
    names: list[str]


@dataclass(frozen=True)
class RosterOverview:
    psychologists: list[Psychologist]
    on_call_now: dict[str, list[str]]  # role -> names
    next_shift: Shift | None
    gaps: list[tuple[datetime, datetime]]
    unreachable: list[str]
    always_on_call: bool
    chain: dict[str, list[tuple[list[str], str]]]
    error: str | None = None


def _contact_states(
    runtime: Runtime, roster: Roster, channels: set[str]
) -> dict[str, tuple[dict[str, str], datetime | None]]:
    """Per psychologist: each configured channel's state from its latest alert."""
    with Session(runtime.db) as session:
        rows = session.exec(
            select(CaseNotification)
            .where(
                col(CaseNotification.status).in_(
                    (NotificationStatus.SENT, NotificationStatus.FAILED)
                )
            )
            .order_by(col(CaseNotification.id))
        ).all()
    latest: dict[tuple[str, str], CaseNotification] = {}
    failures: dict[str, datetime] = {}
    for row in rows:
        latest[(row.psychologist_id, row.channel)] = row
        if row.status == NotificationStatus.FAILED:
            failures[row.psychologist_id] = row.settled_at or row.created_at
    found: dict[str, tuple[dict[str, str], datetime | None]] = {}
    for pid, person in roster.people.items():
        states: dict[str, str] = {}
        for channel, _address in person.contacts.ordered():
            last = latest.get((pid, channel))
            if channel not in channels:
                states[channel] = "unusable"
            elif last is None:
                states[channel] = "unknown"
            else:
                states[channel] = "working" if last.status == NotificationStatus.SENT else "failing"
        found[pid] = (states, failures.get(pid))
    return found


def _names(roster: Roster, ids: tuple[str, ...]) -> list[str]:
    return [roster.people[i].name if i in roster.people else i for i in ids]


def _changes(roster: Roster, start: datetime, end: datetime) -> list[datetime]:
    """Instants in ``(start, end]`` where a shift or override begins or ends."""
    zone = roster.zone
    points: set[datetime] = set()
    day = start.astimezone(zone).date() - timedelta(days=1)
    while datetime.combine(day, datetime.min.time(), tzinfo=zone) < end:
        for shift in roster.data.shifts:
            begin = datetime.combine(day, shift.start, tzinfo=zone)
            points.update({begin, begin + shift.duration()})
        day += timedelta(days=1)
    points.update(roster.boundaries())
    return sorted(p for p in points if start < p <= end)


def next_shift(roster: Roster, now: datetime) -> Shift | None:
    """The next change of who is on call within a week, and until when it lasts."""
    if roster.always_on_call and not roster.boundaries():
        return None
    current = roster.on_call(now).everyone
    points = _changes(roster, now, now + HORIZON)
    for i, point in enumerate(points):
        team = roster.on_call(point).everyone
        if team == current:
            continue
        end = next((p for p in points[i + 1 :] if roster.on_call(p).everyone != team), None)
        return Shift(point, end, _names(roster, team))
    return None


def _chain_text(roster: Roster) -> dict[str, list[tuple[list[str], str]]]:
    """Per priority, each step's roles (or ids) and its wait (the template puts them in words)."""
    return {
        priority: [(list(step.notify), step.wait) for step in roster.chain(priority).steps]
        for priority in PRIORITIES
    }


def load(runtime: Runtime) -> Roster:
    """The roster escalation is using (the last valid version of the file, with the on-call
    changes stored in the database)."""
    esc = runtime.escalation
    return changes.adjusted(esc.roster_source.require(), esc.db, esc.clock())


def overview(runtime: Runtime, now: datetime) -> RosterOverview:
    try:
        roster = load(runtime)
    except RosterError as exc:
        return RosterOverview([], {}, None, [], [], False, {}, error=str(exc))
    channels = set(runtime.escalation.channels)
    states = _contact_states(runtime, roster, channels)
    people = [
        Psychologist(pid, p.name, states[pid][0], states[pid][1])
        for pid, p in roster.people.items()
    ]
    return RosterOverview(
        psychologists=people,
        on_call_now={
            role: _names(roster, roster.on_call(now).role(role))
            for role in ("primary", "backup", "supervisor")
            if roster.on_call(now).role(role)
        },
        next_shift=next_shift(roster, now),
        gaps=[(g.start, g.end) for g in coverage.gaps(roster, now, now + HORIZON)],
        unreachable=[p.name for p in people if not p.reachable],
        always_on_call=roster.always_on_call,
        chain=_chain_text(roster),
        error=runtime.escalation.roster_source.error,
    )


def psychologists(runtime: Runtime) -> list[Psychologist]:
    """Everyone in the roster (for the user form); empty when the file cannot be read."""
    try:
        roster = load(runtime)
    except RosterError:
        return []
    return [Psychologist(pid, p.name) for pid, p in roster.people.items()]
