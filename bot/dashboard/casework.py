"""The dashboard's side of case work: it reads cases and asks the escalation service to act.

No case logic lives here: acknowledging, resolving, writing to the person and the audit
log are :mod:`bot.escalation.service`'s (the Telegram commands call the same functions).
This module turns the dashboard's requests into those calls and the rows into what the
templates show.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from sqlmodel import Session, select

from bot.dashboard import history
from bot.dashboard.history import Event
from bot.dashboard.models import DashboardUser
from bot.db.models import Participant
from bot.escalation import service
from bot.escalation.models import OPEN_STATUSES, PRIORITIES, PRIORITY_RANK, Case

if TYPE_CHECKING:
    from bot.dashboard.web import Page
    from bot.runtime import Runtime

CHANNELS = ("telegram", "whatsapp", "sim")
#: Outbox purposes of messages a psychologist wrote (shown as theirs in the transcript).
STAFF_PURPOSES = frozenset({service.PSYCHOLOGIST_MESSAGE})


@dataclass(frozen=True)
class QueueFilters:
    priority: str | None = None
    status: str | None = None
    channel: str | None = None
    mine: bool = False

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> QueueFilters:
        """Unknown values are ignored (a hand-edited URL shows the whole queue)."""
        priority, status, channel = query.get("priority"), query.get("status"), query.get("channel")
        return cls(
            priority=priority if priority in PRIORITIES else None,
            status=status if status in OPEN_STATUSES else None,
            channel=channel if channel in CHANNELS else None,
            mine=query.get("mine") == "1",
        )

    def query_string(self) -> str:
        pairs = {
            k: v
            for k, v in (
                ("priority", self.priority),
                ("status", self.status),
                ("channel", self.channel),
                ("mine", "1" if self.mine else None),
            )
            if v
        }
        return f"?{urlencode(pairs)}" if pairs else ""


@dataclass(frozen=True)
class CaseView:
    id: int
    participant_id: int | None
    pseudonym: str
    channel: str
    priority: str
    status: str
    reason: str
    quote: str | None
    opened_at: datetime
    next_step_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    outcome: str | None
    note: str | None
    #: The person erased their data (or did so before the case was even opened).
    person_deleted: bool = False
    person_deleted_at: datetime | None = None


def actor(user: DashboardUser) -> str:
    """Who the audit log names: the roster id of a psychologist, else the account."""
    return user.psychologist_id or f"dashboard:{user.username}"


def snapshot_of(case: Case) -> dict[str, Any]:
    """The case's snapshot, or an empty one when the stored value is not a mapping."""
    return case.snapshot if isinstance(case.snapshot, dict) else {}


def _quote(case: Case) -> str | None:
    value = snapshot_of(case).get("quote")
    return value[:300] if isinstance(value, str) and value else None


def _view(case: Case, participant: Participant | None) -> CaseView:
    return CaseView(
        id=case.id or 0,
        participant_id=case.participant_id,
        pseudonym=participant.pseudonym if participant else "—",
        channel=case.channel or (participant.channel if participant else ""),
        priority=case.priority,
        status=case.status,
        reason=case.reason,
        quote=_quote(case),
        opened_at=case.opened_at,
        next_step_at=case.next_step_at,
        acknowledged_at=case.acknowledged_at,
        acknowledged_by=case.acknowledged_by,
        resolved_at=case.resolved_at,
        resolved_by=case.resolved_by,
        outcome=case.outcome,
        note=case.note,
        person_deleted=participant is None,
        person_deleted_at=case.person_deleted_at,
    )


def _participants(runtime: Runtime, ids: set[int]) -> dict[int, Participant]:
    if not ids:
        return {}
    with Session(runtime.db) as session:
        rows = session.exec(select(Participant).where(Participant.id.in_(ids)))  # type: ignore[union-attr]
        return {p.id or 0: p for p in rows}


def queue(runtime: Runtime, filters: QueueFilters, user: DashboardUser) -> list[CaseView]:
    """Open cases, most urgent first, then longest waiting."""
    cases = service.open_cases(runtime.db)
    people = _participants(runtime, {c.participant_id for c in cases if c.participant_id})
    views = [_view(c, people.get(c.participant_id or 0)) for c in cases]
    me = actor(user)
    views = [
        v
        for v in views
        if (filters.priority is None or v.priority == filters.priority)
        and (filters.status is None or v.status == filters.status)
        and (filters.channel is None or v.channel == filters.channel)
        and (not filters.mine or v.acknowledged_by == me)
    ]
    views.sort(key=lambda v: (PRIORITY_RANK.get(v.priority, 9), v.opened_at, v.id))
    return views


def get_case(runtime: Runtime, case_id: int) -> CaseView | None:
    case = service.get_case(runtime.db, case_id)
    if case is None:
        return None
    people = _participants(runtime, {case.participant_id} if case.participant_id else set())
    return _view(case, people.get(case.participant_id or 0))


# --- actions (all through the escalation service) ----------------------------------------


def record_view(runtime: Runtime, case_id: int, user: DashboardUser) -> bool:
    """Audit an opening of the case page; False when there is no such case."""
    return service.record_access(runtime.db, case_id, "viewed", actor(user), esc=runtime.escalation)


def record_reveal(runtime: Runtime, case_id: int, user: DashboardUser) -> bool:
    return service.record_access(
        runtime.db, case_id, "revealed", actor(user), esc=runtime.escalation
    )


def acknowledge(runtime: Runtime, case_id: int, user: DashboardUser) -> str:
    """The service's result (an :class:`ActionResult` value, also a flash key)."""
    return service.acknowledge(runtime.db, case_id, actor(user), esc=runtime.escalation).value


def resolve(runtime: Runtime, case_id: int, user: DashboardUser, outcome: str, note: str) -> str:
    return service.resolve(
        runtime.db, case_id, actor(user), outcome, note, esc=runtime.escalation
    ).value


def send_to_person(runtime: Runtime, case_id: int, user: DashboardUser, text: str) -> str:
    return service.send_to_person(
        runtime.db, case_id, actor(user), text, esc=runtime.escalation
    ).value


def timeline(runtime: Runtime, case_id: int, page: Page) -> list[Event]:
    """The case's history, oldest first, each event's details in the reader's words."""
    esc = runtime.escalation

    def name(actor_id: str) -> str:
        return service.actor_name(esc, actor_id)

    return [
        Event(
            e.at,
            e.kind,
            name(e.actor) if e.actor else None,
            history.summary(page, e.detail, name),
        )
        for e in service.timeline(runtime.db, case_id)
    ]
