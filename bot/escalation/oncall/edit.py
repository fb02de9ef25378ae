"""Adding and undoing on-call changes, validated and audited; the same calls for the
dashboard and the Telegram commands.

A change is checked the way the roster file is: the same strict model (known fields, ids
written as in the file, local times in the roster's zone, end after start), the ids must be
psychologists of the roster, and the person covered or marked away must hold a role at
some moment of the window (so a typo does not pass silently). Every add and undo writes an
``OnCallAudit`` row with who was on call over the window before and after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlmodel import Session, col, select

from bot.escalation.context import Escalation
from bot.escalation.oncall.changes import AdjustedRoster, Change, Segment, active_changes, segments
from bot.escalation.oncall.models import OnCallAudit, OnCallChange
from bot.escalation.roster import Roster
from bot.escalation.roster_file import LocalDateTime

MAX_LENGTH = timedelta(days=31)
ID_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"


class ChangeError(ValueError):
    """A refused change: ``code`` names the reason (a text key), ``field`` the field."""

    def __init__(self, code: str, field: str = "", **params: str) -> None:
        super().__init__(f"{field or 'change'}: {code} {params or ''}".strip())
        self.code = code
        self.field = field
        self.params = params


class ChangeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["cover", "away"]
    psychologist_id: str = Field(pattern=ID_PATTERN)
    covers: str | None = Field(default=None, pattern=ID_PATTERN)
    #: Local times in the roster's zone, as the file's overrides.
    start: LocalDateTime
    end: LocalDateTime
    note: str = Field(default="", max_length=200)

    @model_validator(mode="after")
    def _window(self) -> ChangeRequest:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if self.end - self.start > MAX_LENGTH:
            raise ValueError("at most 31 days")
        return self


def request(**values: object) -> ChangeRequest:
    """A validated request; ``ChangeError`` names the first wrong field."""
    try:
        return ChangeRequest.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = str(first["msg"])
    if "31 days" in message:
        raise ChangeError("too_long", "end")
    if "after start" in message:
        raise ChangeError("end_before_start", "end")
    raise ChangeError("invalid", where or "start", detail=message)


@dataclass(frozen=True)
class Outcome:
    change: Change
    before: list[Segment]
    after: list[Segment]
    gaps: list[Segment] = field(default_factory=list)


def _roster(esc: Escalation) -> AdjustedRoster:
    base = esc.roster_source.current()
    if base is None:
        raise ChangeError("no_roster")
    return AdjustedRoster(base, active_changes(esc.db, esc.clock()))


def _known(roster: Roster, pid: str | None, where: str) -> None:
    if pid is not None and pid not in roster.people:
        raise ChangeError("unknown_id", where, id=pid)


@contextmanager
def _session(esc: Escalation, given: Session | None) -> Iterator[Session]:
    """``given`` (a Telegram command runs in the inbox step's transaction: flushed, committed
    by the step), else a new session committed at the end."""
    if given is not None:
        yield given
        given.flush()
        return
    with Session(esc.db) as session:
        yield session
        session.commit()


def add(esc: Escalation, req: ChangeRequest, actor: str, session: Session | None = None) -> Outcome:
    roster = _roster(esc)
    _known(roster, req.psychologist_id, "psychologist_id")
    _known(roster, req.covers, "covers")
    if req.covers == req.psychologist_id:
        raise ChangeError("same_person", "covers")
    start = req.start.replace(tzinfo=roster.zone)
    end = req.end.replace(tzinfo=roster.zone)
    now = esc.clock()
    if end <= now:
        raise ChangeError("in_past", "end")
    before = segments(roster, start, end)
    checked = req.covers if req.kind == "cover" else req.psychologist_id
    if checked is not None and not any(checked in s.on_call.everyone for s in before):
        where = "covers" if req.kind == "cover" else "psychologist_id"
        raise ChangeError("not_on_call", where, id=checked)
    with _session(esc, session) as db:
        row = OnCallChange(
            kind=req.kind,
            psychologist_id=req.psychologist_id,
            covers=req.covers if req.kind == "cover" else None,
            starts_at=start,
            ends_at=end,
            note=req.note.strip(),
            created_at=now,
            created_by=actor,
        )
        db.add(row)
        db.flush()
        change = Change.of(row)
        after = segments(AdjustedRoster(roster.base, [*roster.changes, change]), start, end)
        db.add(_audit(now, actor, "add", change.id, before, after))
    return Outcome(change, before, after, [s for s in after if s.gap])


def undo(esc: Escalation, change_id: int, actor: str, session: Session | None = None) -> Outcome:
    roster = _roster(esc)
    now = esc.clock()
    with _session(esc, session) as db:
        row = db.get(OnCallChange, change_id)
        if row is None:
            raise ChangeError("not_found", id=str(change_id))
        if row.undone_at is not None:
            raise ChangeError("already_undone", id=str(change_id))
        change = Change.of(row)
        before = segments(roster, change.start, change.end)
        rest = [c for c in roster.changes if c.id != change.id]
        after = segments(AdjustedRoster(roster.base, rest), change.start, change.end)
        row.undone_at = now
        row.undone_by = actor
        db.add(row)
        db.add(_audit(now, actor, "undo", change.id, before, after))
    return Outcome(change, before, after, [s for s in after if s.gap])


def last_by(session: Session, esc: Escalation, actor: str) -> int | None:
    """The newest change ``actor`` made that is still in force (for ``/undo``)."""
    return session.exec(
        select(OnCallChange.id)
        .where(OnCallChange.created_by == actor)
        .where(col(OnCallChange.undone_at).is_(None))
        .where(col(OnCallChange.ends_at) > esc.clock())
        .order_by(col(OnCallChange.id).desc())
        .limit(1)
    ).first()


def _audit(
    now: datetime,
    actor: str,
    action: str,
    change_id: int,
    before: list[Segment],
    after: list[Segment],
) -> OnCallAudit:
    return OnCallAudit(
        at=now,
        actor=actor,
        action=action,
        change_id=change_id,
        before=[s.as_dict() for s in before],
        after=[s.as_dict() for s in after],
    )


def upcoming(esc: Escalation) -> list[OnCallChange]:
    """Changes in force now or later, soonest first."""
    with Session(esc.db) as session:
        return list(
            session.exec(
                select(OnCallChange)
                .where(col(OnCallChange.undone_at).is_(None))
                .where(col(OnCallChange.ends_at) > esc.clock())
                .order_by(col(OnCallChange.starts_at), col(OnCallChange.id))
            ).all()
        )


def history(esc: Escalation, limit: int = 30) -> list[tuple[OnCallAudit, OnCallChange]]:
    """The newest audit rows with their change."""
    with Session(esc.db) as session:
        rows = session.exec(
            select(OnCallAudit, OnCallChange)
            .join(OnCallChange, col(OnCallChange.id) == OnCallAudit.change_id)
            .order_by(col(OnCallAudit.id).desc())
            .limit(limit)
        ).all()
        return [(audit, change) for audit, change in rows]
