"""The roster escalation uses: the file (``ONCALL_FILE``) with the changes stored in the
database applied over it.

A change holds from ``starts_at`` (included) to ``ends_at`` (excluded):

* ``cover`` with ``covers``: the psychologist takes ``covers``' place in every role
  ``covers`` holds then (nothing happens while ``covers`` holds none);
* ``cover`` without ``covers``: the psychologist becomes the primary, and whoever was
  primary moves to backup (this is how a gap is filled);
* ``away``: the psychologist holds no role; if that leaves no primary, the backups become
  primary.

Later changes apply after earlier ones (by id). They are read from the database every time
the roster is asked for (one indexed query), never kept in process memory, so a change made
in one process holds for the next escalation of every other process at once.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Table, select
from sqlalchemy.exc import SQLAlchemyError

from bot.db.engine import read_only
from bot.db.tables import table_of
from bot.escalation.oncall.models import OnCallChange
from bot.escalation.roster import OnCall, Roster

log = logging.getLogger(__name__)

#: Changes that ended this long ago are no longer read (steps run late by the auditor
#: still resolve roles as they were).
KEEP_READING = timedelta(days=1)


@dataclass(frozen=True)
class Change:
    id: int
    kind: str  # cover | away
    psychologist_id: str
    covers: str | None
    start: datetime  # aware
    end: datetime

    def holds(self, at: datetime) -> bool:
        return self.start <= at < self.end

    @classmethod
    def of(cls, row: OnCallChange) -> Change:
        return cls(
            row.id or 0, row.kind, row.psychologist_id, row.covers, row.starts_at, row.ends_at
        )


def _unique(ids: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(ids))


def apply(on_call: OnCall, change: Change) -> OnCall:
    """Who holds each role once ``change`` is applied."""
    who = change.psychologist_id
    roles = {"primary": on_call.primary, "backup": on_call.backup, "supervisor": on_call.supervisor}
    if change.kind == "away":
        roles = {role: tuple(i for i in ids if i != who) for role, ids in roles.items()}
        if not roles["primary"]:
            roles["primary"], roles["backup"] = roles["backup"], ()
    elif change.covers:
        roles = {
            role: _unique(who if i == change.covers else i for i in ids)
            for role, ids in roles.items()
        }
    else:
        roles["backup"] = _unique(i for i in (*roles["primary"], *roles["backup"]) if i != who)
        roles["primary"] = (who,)
    if who in roles["primary"]:
        roles["backup"] = tuple(i for i in roles["backup"] if i != who)
    return OnCall(roles["primary"], roles["backup"], roles["supervisor"])


class AdjustedRoster(Roster):
    """A roster file with on-call changes applied over it."""

    def __init__(self, base: Roster, changes: Sequence[Change]) -> None:
        super().__init__(base.data, base.source)
        self.base = base
        self.changes = tuple(sorted(changes, key=lambda c: c.id))

    def on_call(self, at: datetime) -> OnCall:
        found = super().on_call(at)
        for change in self.changes:
            if change.holds(at):
                found = apply(found, change)
        return found

    def boundaries(self) -> list[datetime]:
        return [*super().boundaries(), *(t for c in self.changes for t in (c.start, c.end))]


_CHANGES: Table = table_of(OnCallChange)


def active_changes(db: Engine, now: datetime) -> list[Change]:
    """The changes not undone that have not ended (or ended less than a day ago).

    A read-only connection: on SQLite it does not queue with the writers, so it may be
    called inside another transaction (the inbox step asks for the roster)."""
    query = (
        select(_CHANGES)
        .where(_CHANGES.c.undone_at.is_(None), _CHANGES.c.ends_at > now - KEEP_READING)
        .order_by(_CHANGES.c.id)
    )
    with read_only(db) as connection:
        rows = connection.execute(query).mappings().all()
    return [
        Change(
            row["id"],
            row["kind"],
            row["psychologist_id"],
            row["covers"],
            row["starts_at"],
            row["ends_at"],
        )
        for row in rows
    ]


def adjusted(base: Roster, db: Engine, now: datetime) -> Roster:
    """``base`` with the stored changes; ``base`` itself when there are none, or when the
    database cannot be read (logged; its own health check reports the outage, and the
    readiness and metrics that ask for the roster still answer)."""
    try:
        changes = active_changes(db, now)
    except SQLAlchemyError:
        log.warning("on-call changes unreadable (database error); using the roster file alone")
        return base
    return AdjustedRoster(base, changes) if changes else base


# --- who is on call over a window ------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """``[start, end)`` with the same people in each role."""

    start: datetime
    end: datetime
    on_call: OnCall

    @property
    def gap(self) -> bool:
        return not self.on_call.primary

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "primary": list(self.on_call.primary),
            "backup": list(self.on_call.backup),
            "supervisor": list(self.on_call.supervisor),
        }


def segments(roster: Roster, start: datetime, end: datetime) -> list[Segment]:
    """Who holds each role over ``[start, end)``, as consecutive segments."""
    found: list[Segment] = []
    for a, b in itertools.pairwise(roster.change_points(start, end)):
        if b <= a:
            continue
        team = roster.on_call(a)
        if found and found[-1].on_call == team and found[-1].end == a:
            found[-1] = Segment(found[-1].start, b, team)
        else:
            found.append(Segment(a, b, team))
    return found
