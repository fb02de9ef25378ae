"""The case-work API, called by the psychologists' Telegram commands and by the dashboard.

Plain functions over the database engine; each action runs in its own transaction with the
case row locked (``FOR UPDATE``; SQLite serialises writers), checks the actor against the
on-call roster and writes the audit log. An action never moves a case backwards: an
acknowledgement racing a resolution finds the case resolved and leaves it so.

Actors: a roster psychologist id, or ``dashboard:<username>`` for a dashboard account that
is not on the roster (the dashboard has authenticated it and checked its role). Every
action takes the process's :class:`~bot.escalation.context.Escalation` (``esc``: the
database, roster, texts and clock) first. The ``*_in`` variants run inside a caller's
session (the Telegram command handler runs in the inbox step's).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from bot.db.models import Participant
from bot.escalation import notify
from bot.escalation.cases import cancel_steps, ingest_signals
from bot.escalation.context import Escalation
from bot.escalation.models import (
    OPEN_STATUSES,
    OUTCOMES,
    PRIORITY_RANK,
    Case,
    CaseEvent,
    CaseStatus,
)
from bot.outbox.enums import Channel, Purpose
from bot.outbox.queue import Recipient, enqueue

__all__ = [
    "ActionResult",
    "acknowledge",
    "acknowledge_in",
    "get_case",
    "ingest_signals",
    "is_authorised",
    "open_cases",
    "record_access",
    "resolve",
    "resolve_in",
    "send_to_person",
    "send_to_person_in",
    "timeline",
    "transfer",
]

DASHBOARD_PREFIX = "dashboard:"
MAX_MESSAGE = 3000
MAX_NOTE = 2000
ACCESS_KINDS = frozenset({"viewed", "revealed", "media_viewed"})
#: Openings of a case by one user within this time are audited once ("revealed" always is).
VIEW_COLLAPSE = timedelta(minutes=10)
T = TypeVar("T")


class ActionResult(StrEnum):
    """What an action did (also the dashboard's flash keys)."""

    ACKNOWLEDGED = "acknowledged"
    ALREADY_ACKNOWLEDGED = "already_acknowledged"
    RESOLVED = "resolved"
    ALREADY_RESOLVED = "already_resolved"
    SENT = "sent"
    NOT_FOUND = "not_found"
    NOT_ALLOWED = "not_allowed"
    INVALID_OUTCOME = "invalid_outcome"
    EMPTY = "empty"
    PERSON_GONE = "person_gone"
    TRANSFERRED = "transferred"
    NOT_HELD = "not_held"
    NO_SUCH_COLLEAGUE = "no_such_colleague"
    COLLEAGUE_UNREACHABLE = "colleague_unreachable"


def is_authorised(esc: Escalation, actor: str) -> bool:
    if actor.startswith(DASHBOARD_PREFIX) and len(actor) > len(DASHBOARD_PREFIX):
        return True
    roster = esc.roster
    return roster is not None and roster.get(actor) is not None


def actor_name(esc: Escalation, actor: str | None) -> str:
    if not actor:
        return "—"
    roster = esc.roster
    person = roster.get(actor) if roster is not None else None
    return person.name if person else actor.removeprefix(DASHBOARD_PREFIX)


def _transaction(esc: Escalation, work: Callable[[Session], T]) -> T:
    for _attempt in range(5):
        try:
            with Session(esc.db, expire_on_commit=False) as session:
                result = work(session)
                session.commit()
                return result
        except StaleDataError:
            continue
    raise RuntimeError("the case kept changing concurrently")


def _locked(session: Session, case_id: int) -> Case | None:
    return session.exec(select(Case).where(Case.id == case_id).with_for_update()).first()


# --- reading ---------------------------------------------------------------------------------


def open_cases(db: Engine) -> list[Case]:
    """Open cases, most urgent first, then longest waiting."""
    with Session(db, expire_on_commit=False) as session:
        cases = session.exec(select(Case).where(col(Case.status).in_(OPEN_STATUSES))).all()
    return sorted(cases, key=lambda c: (PRIORITY_RANK.get(c.priority, 9), c.opened_at, c.id or 0))


def get_case(db: Engine, case_id: int) -> Case | None:
    with Session(db, expire_on_commit=False) as session:
        return session.get(Case, case_id)


def timeline(db: Engine, case_id: int) -> list[CaseEvent]:
    """The case's audit log, oldest first."""
    with Session(db, expire_on_commit=False) as session:
        return list(
            session.exec(
                select(CaseEvent)
                .where(CaseEvent.case_id == case_id)
                .order_by(col(CaseEvent.at), col(CaseEvent.id))
            )
        )


def record_access(esc: Escalation, case_id: int, kind: str, actor: str) -> bool:
    """Audit a look at a case (``viewed``) or at the person's identifier (``revealed``)."""
    if kind not in ACCESS_KINDS:
        raise ValueError(f"not an access kind: {kind}")

    def work(session: Session) -> bool:
        if session.get(Case, case_id) is None:
            return False
        now = esc.clock()
        if kind == "viewed" and _viewed_lately(session, case_id, actor, now):
            return True
        notify.event(session, case_id, kind, now, actor)
        return True

    return _transaction(esc, work)


def _viewed_lately(session: Session, case_id: int, actor: str, now: datetime) -> bool:
    """Has ``actor`` opened this case within ``VIEW_COLLAPSE``? (Then once is enough.)"""
    found = session.exec(
        select(CaseEvent.id).where(
            CaseEvent.case_id == case_id,
            CaseEvent.kind == "viewed",
            CaseEvent.actor == actor,
            col(CaseEvent.at) > now - VIEW_COLLAPSE,
        )
    ).first()
    return found is not None


# --- acting ----------------------------------------------------------------------------------


def acknowledge(esc: Escalation, case_id: int, actor: str) -> ActionResult:
    return _transaction(esc, lambda session: acknowledge_in(session, esc, case_id, actor))


def acknowledge_in(session: Session, esc: Escalation, case_id: int, actor: str) -> ActionResult:
    """Take the case: the escalation chain stops; the others who were alerted are told."""
    if not is_authorised(esc, actor):
        return ActionResult.NOT_ALLOWED
    case = _locked(session, case_id)
    if case is None:
        return ActionResult.NOT_FOUND
    if case.status == CaseStatus.RESOLVED:
        return ActionResult.ALREADY_RESOLVED
    if case.status != CaseStatus.OPEN:
        return ActionResult.ALREADY_ACKNOWLEDGED
    now = esc.clock()
    _take(session, esc, case, actor, now)
    return ActionResult.ACKNOWLEDGED


def _take(session: Session, esc: Escalation, case: Case, actor: str, now: datetime) -> None:
    assert case.id is not None
    case.status = CaseStatus.ACKNOWLEDGED
    case.acknowledged_at = now
    case.acknowledged_by = actor
    case.next_step_at = None
    cancel_steps(session, case.id)
    session.add(case)
    notify.event(session, case.id, "acknowledged", case.acknowledged_at, actor)
    _tell_others(session, esc, case, actor)


def _tell_others(session: Session, esc: Escalation, case: Case, actor: str) -> None:
    """Everyone else who was alerted learns who has the case (on Telegram only)."""
    roster = esc.roster
    if roster is None or case.id is None:
        return
    name = actor_name(esc, actor)
    for pid in notify.notified_psychologists(session, case.id):
        person = roster.get(pid)
        if person is None or pid == actor or not person.contacts.telegram_chat_id:
            continue
        if Channel.TELEGRAM not in esc.channels:
            continue
        text = esc.texts.get(person.language).render(
            "acknowledged_by_other", case=case.id, name=name
        )
        chat = str(person.contacts.telegram_chat_id)
        notify.staff_message(
            session, esc, Channel.TELEGRAM, chat, text, esc.clock(), purpose=Purpose.STAFF_REPLY
        )


def resolve(
    esc: Escalation, case_id: int, actor: str, outcome: str, note: str = ""
) -> ActionResult:
    return _transaction(
        esc, lambda session: resolve_in(session, esc, case_id, actor, outcome, note)
    )


def resolve_in(
    session: Session, esc: Escalation, case_id: int, actor: str, outcome: str, note: str = ""
) -> ActionResult:
    """Close the case with an outcome and a note; the automated flow resumes for the person."""
    if not is_authorised(esc, actor):
        return ActionResult.NOT_ALLOWED
    if outcome not in OUTCOMES:
        return ActionResult.INVALID_OUTCOME
    case = _locked(session, case_id)
    if case is None:
        return ActionResult.NOT_FOUND
    if case.status == CaseStatus.RESOLVED:
        return ActionResult.ALREADY_RESOLVED
    now = esc.clock()
    assert case.id is not None
    case.status = CaseStatus.RESOLVED
    case.resolved_at = now
    case.resolved_by = actor
    case.outcome = outcome
    case.note = note.strip()[:MAX_NOTE] or None
    case.next_step_at = None
    cancel_steps(session, case.id)
    session.add(case)
    notify.event(session, case.id, "resolved", now, actor, outcome=outcome, note=case.note or "")
    return ActionResult.RESOLVED


def send_to_person(esc: Escalation, case_id: int, actor: str, text: str) -> ActionResult:
    return _transaction(esc, lambda session: send_to_person_in(session, esc, case_id, actor, text))


def send_to_person_in(
    session: Session, esc: Escalation, case_id: int, actor: str, text: str
) -> ActionResult:
    """Write to the person on their channel (outbox, purpose ``psychologist_message``). The
    case goes ``in_conversation`` with ``actor``: the automated flow pauses for the person
    (crisis detection keeps running) until the case is resolved."""
    if not is_authorised(esc, actor):
        return ActionResult.NOT_ALLOWED
    body = text.strip()[:MAX_MESSAGE]
    if not body:
        return ActionResult.EMPTY
    case = _locked(session, case_id)
    if case is None:
        return ActionResult.NOT_FOUND
    if case.status == CaseStatus.RESOLVED:
        return ActionResult.ALREADY_RESOLVED
    person = session.get(Participant, case.participant_id) if case.participant_id else None
    if person is None:
        return ActionResult.PERSON_GONE
    now = esc.clock()
    assert case.id is not None
    if case.status == CaseStatus.OPEN:
        _take(session, esc, case, actor, now)
    wrapped = esc.texts.get(person.language).render(
        "to_person", name=actor_name(esc, actor), text=body
    )
    outbound_id = enqueue(
        session, Recipient.person(person), wrapped, now, purpose=Purpose.PSYCHOLOGIST_MESSAGE
    )
    case.status = CaseStatus.IN_CONVERSATION
    case.conversation_with = actor
    session.add(case)
    notify.event(session, case.id, "message_to_person", now, actor, outbound=outbound_id)
    return ActionResult.SENT


def transfer(
    esc: Escalation, case_id: int, actor: str, colleague: str, note: str = ""
) -> ActionResult:
    return _transaction(
        esc, lambda session: transfer_in(session, esc, case_id, actor, colleague, note)
    )


def transfer_in(
    session: Session, esc: Escalation, case_id: int, actor: str, colleague: str, note: str = ""
) -> ActionResult:
    """Hand a taken case to a colleague on the roster, who is told at once on their first
    usable channel (a colleague nobody can reach is refused: the case stays where it is).
    A case in conversation moves with its conversation: the person's messages go to them."""
    if not is_authorised(esc, actor):
        return ActionResult.NOT_ALLOWED
    roster = esc.roster
    person = roster.get(colleague) if roster is not None else None
    if person is None or colleague == actor:
        return ActionResult.NO_SUCH_COLLEAGUE
    contacts = notify.usable_contacts(esc, person)
    if not contacts:
        return ActionResult.COLLEAGUE_UNREACHABLE
    case = _locked(session, case_id)
    if case is None:
        return ActionResult.NOT_FOUND
    if case.status == CaseStatus.RESOLVED:
        return ActionResult.ALREADY_RESOLVED
    if case.status == CaseStatus.OPEN:
        return ActionResult.NOT_HELD
    assert case.id is not None
    now = esc.clock()
    before = case.conversation_with or case.acknowledged_by
    case.acknowledged_by = colleague
    if case.status == CaseStatus.IN_CONVERSATION:
        case.conversation_with = colleague
    session.add(case)
    text = note.strip()[:MAX_NOTE]
    notify.event(
        session, case.id, "transferred", now, actor, **{"from": before or "", "to": colleague}
    )
    body = esc.texts.get(person.language).render(
        "transferred_to_you",
        case=case.id,
        name=actor_name(esc, actor),
        priority=esc.texts.get(person.language).priority.get(case.priority, case.priority),
        note=text,
    )
    channel, contact = contacts[0]
    notify.staff_message(
        session, esc, channel, contact, body.strip(), now, purpose=Purpose.STAFF_REPLY
    )
    return ActionResult.TRANSFERRED
