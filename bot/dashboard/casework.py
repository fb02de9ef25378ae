"""The dashboard's side of case work: it reads cases and asks the escalation service to act.

No case logic lives here: acknowledging, resolving, writing to the person and the audit
log are :mod:`bot.escalation.service`'s (the Telegram commands call the same functions).
This module turns the dashboard's requests into those calls and the rows into what the
templates show.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from sqlmodel import Session, col, select

from bot.accounts.models import DashboardUser
from bot.dashboard import alerts, history, reasons
from bot.dashboard.alerts import AlertState
from bot.dashboard.history import Event
from bot.dashboard.rows import ROW_ERRORS
from bot.db.models import Participant
from bot.escalation import notify, service
from bot.escalation.models import OPEN_STATUSES, PRIORITIES, PRIORITY_RANK, Case
from bot.outbox.enums import Channel, Purpose

if TYPE_CHECKING:
    from bot.dashboard.web import Page
    from bot.runtime import Runtime

log = logging.getLogger(__name__)
CHANNELS = (Channel.TELEGRAM, Channel.WHATSAPP, Channel.SIM)
#: Outbox purposes of messages a psychologist wrote (shown as theirs in the transcript).
STAFF_PURPOSES = frozenset({Purpose.PSYCHOLOGIST_MESSAGE})


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
    #: In words (see :mod:`bot.dashboard.reasons`); ``reason_rule`` is shown on hover.
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
    reason_rule: str = ""
    alerts: AlertState = field(default_factory=AlertState)
    conversation_with: str | None = None


def actor(user: DashboardUser) -> str:
    """Who the audit log names: the roster id of a psychologist, else the account."""
    return user.psychologist_id or f"dashboard:{user.username}"


def snapshot_of(case: Case) -> dict[str, Any]:
    """The case's snapshot, or an empty one when the stored value is not a mapping."""
    return case.snapshot if isinstance(case.snapshot, dict) else {}


def _quote(case: Case) -> str | None:
    value = snapshot_of(case).get("quote")
    return value[:300] if isinstance(value, str) and value else None


def _reason(runtime: Runtime, page: Page, case: Case) -> reasons.Reason:
    try:
        return reasons.of_case(runtime.content, page, case)
    except ROW_ERRORS:
        log.exception("a case's reason could not be put in words", extra={"case": case.id})
        return reasons.Reason(case.reason or "—", case.reason or "")


def _view(
    case: Case, participant: Participant | None, reason: reasons.Reason, alerts: AlertState
) -> CaseView:
    return CaseView(
        id=case.id or 0,
        participant_id=case.participant_id,
        pseudonym=participant.pseudonym if participant else "—",
        channel=case.channel or (participant.channel if participant else ""),
        priority=case.priority,
        status=case.status,
        reason=reason.text,
        reason_rule=reason.rule,
        alerts=alerts,
        conversation_with=case.conversation_with,
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
        rows = session.exec(select(Participant).where(col(Participant.id).in_(ids)))
        return {p.id or 0: p for p in rows}


def queue(
    runtime: Runtime, filters: QueueFilters, user: DashboardUser, page: Page
) -> list[CaseView]:
    """Open cases, most urgent first, then longest waiting."""
    cases = service.open_cases(runtime.db)
    people = _participants(runtime, {c.participant_id for c in cases if c.participant_id})
    sent = alerts.states(runtime.db, [c.id for c in cases if c.id is not None])
    views = [
        _view(c, people.get(c.participant_id or 0), _reason(runtime, page, c), sent[c.id or 0])
        for c in cases
    ]
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


def get_case(runtime: Runtime, case_id: int, page: Page) -> CaseView | None:
    case = service.get_case(runtime.db, case_id)
    if case is None:
        return None
    people = _participants(runtime, {case.participant_id} if case.participant_id else set())
    sent = alerts.states(runtime.db, [case_id])[case_id]
    return _view(case, people.get(case.participant_id or 0), _reason(runtime, page, case), sent)


def all_reasons(runtime: Runtime, case_id: int, page: Page) -> list[reasons.Reason]:
    case = service.get_case(runtime.db, case_id)
    if case is None:
        return []
    try:
        return reasons.all_of_case(runtime.content, page, case)
    except ROW_ERRORS:
        log.exception("a case's reasons could not be put in words", extra={"case": case_id})
        return []


# --- actions (all through the escalation service) ----------------------------------------


def record_view(runtime: Runtime, case_id: int, user: DashboardUser) -> bool:
    """Audit an opening of the case page; False when there is no such case."""
    return service.record_access(runtime.escalation, case_id, "viewed", actor(user))


def record_reveal(runtime: Runtime, case_id: int, user: DashboardUser) -> bool:
    return service.record_access(runtime.escalation, case_id, "revealed", actor(user))


def record_media_view(runtime: Runtime, case_id: int, user: DashboardUser) -> bool:
    """Audit an opening of a file the person sent."""
    return service.record_access(runtime.escalation, case_id, "media_viewed", actor(user))


def acknowledge(runtime: Runtime, case_id: int, user: DashboardUser) -> str:
    """The service's result (an :class:`ActionResult` value, also a flash key)."""
    return service.acknowledge(runtime.escalation, case_id, actor(user)).value


def resolve(runtime: Runtime, case_id: int, user: DashboardUser, outcome: str, note: str) -> str:
    return service.resolve(runtime.escalation, case_id, actor(user), outcome, note).value


def send_to_person(runtime: Runtime, case_id: int, user: DashboardUser, text: str) -> str:
    return service.send_to_person(runtime.escalation, case_id, actor(user), text).value


def transfer(runtime: Runtime, case_id: int, user: DashboardUser, colleague: str, note: str) -> str:
    return service.transfer(runtime.escalation, case_id, actor(user), colleague, note).value


def staff_names(runtime: Runtime) -> dict[str, str]:
    """Roster id → name (audit actors and alert recipients are shown by name)."""
    roster = runtime.escalation.roster
    return {p.id: p.name for p in roster.people.values()} if roster is not None else {}


@dataclass(frozen=True)
class Colleague:
    id: str
    name: str
    reachable: bool


def colleagues(runtime: Runtime, user: DashboardUser) -> list[Colleague]:
    """Who a case can be handed to: the roster's psychologists but oneself, reachable first."""
    esc = runtime.escalation
    roster = esc.roster
    if roster is None:
        return []
    me = actor(user)
    found = [
        Colleague(p.id, p.name, bool(notify.usable_contacts(esc, p)))
        for p in roster.people.values()
        if p.id != me
    ]
    return sorted(found, key=lambda c: (not c.reachable, c.name))


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
