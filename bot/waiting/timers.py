"""The waiting state's durable timers: check-ins, and the honest notice that nobody has
acknowledged yet. Run by the escalation loop (``bot.worker.escalation_round``).

A due timer runs in one transaction: the timer row is locked (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so with several workers each runs once), the message goes to the outbox and the
timer is marked done together. A crash leaves it pending; it runs after the restart.

Nothing is sent when the person is no longer waiting (a psychologist is writing with them,
the case is resolved, they left with SALIR): the timer is cancelled. The "nobody has
acknowledged" notice goes only while the case is still unacknowledged.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session, col, select

from bot.content import Content
from bot.db.models import Conversation, Participant, TimerKind, TimerStatus, WaitingTimer
from bot.escalation import notify
from bot.escalation.context import Escalation
from bot.escalation.models import Case, CaseStatus
from bot.outbox.enums import Purpose
from bot.outbox.queue import Recipient, enqueue

log = logging.getLogger(__name__)

WAITING_STATES = frozenset({"waiting", "safety_plan"})


def run_due(esc: Escalation, content: Content, limit: int = 100) -> int:
    """Run the due timers; returns how many ran or were cancelled."""
    now = esc.clock()
    with Session(esc.db) as session:
        ids = session.exec(
            select(WaitingTimer.id)
            .where(WaitingTimer.status == TimerStatus.PENDING, col(WaitingTimer.due_at) <= now)
            .order_by(col(WaitingTimer.due_at), col(WaitingTimer.id))
            .limit(limit)
        ).all()
    return sum(_run_one(esc, content, timer_id) for timer_id in ids if timer_id is not None)


def _run_one(esc: Escalation, content: Content, timer_id: int) -> int:
    with Session(esc.db, expire_on_commit=False) as session:
        timer = session.exec(
            select(WaitingTimer)
            .where(WaitingTimer.id == timer_id, WaitingTimer.status == TimerStatus.PENDING)
            .with_for_update(skip_locked=True)
        ).first()
        now = esc.clock()
        if timer is None or timer.due_at > now:
            return 0
        timer.ran_at = now
        key = _message_key(session, timer)
        timer.status = TimerStatus.CANCELLED if key is None else TimerStatus.DONE
        if key is not None:
            _send(session, content, timer, key, now)
        session.add(timer)
        session.commit()
    return 1


def _message_key(session: Session, timer: WaitingTimer) -> str | None:
    """What to tell the person now, or None when they are no longer waiting."""
    conv = session.exec(
        select(Conversation).where(Conversation.participant_id == timer.participant_id)
    ).first()
    person = session.get(Participant, timer.participant_id)
    if conv is None or conv.state not in WAITING_STATES or person is None:
        return None
    if person.opted_out_at is not None:
        return None
    case = session.exec(
        select(Case).where(
            Case.participant_id == timer.participant_id, Case.status != CaseStatus.RESOLVED
        )
    ).first()
    if case is not None and case.status == CaseStatus.IN_CONVERSATION:
        return None  # a psychologist is writing with them
    if timer.kind == TimerKind.NO_ACK:
        unacknowledged = case is None or case.status == CaseStatus.OPEN
        return "waiting_no_ack" if unacknowledged else None
    return "waiting_checkin"


def _send(session: Session, content: Content, timer: WaitingTimer, key: str, now: datetime) -> None:
    person = session.get(Participant, timer.participant_id)
    assert person is not None
    text = content.catalog(person.language).render(key)
    # A follow-up: it goes out on its own, so it is held outside the WhatsApp window.
    enqueue(session, Recipient.person(person), text, now, purpose=Purpose.FOLLOWUP)
    case = session.exec(
        select(Case).where(Case.participant_id == person.id, Case.status != CaseStatus.RESOLVED)
    ).first()
    if case is not None and case.id is not None:
        notify.event(session, case.id, "waiting_message", now, "system", timer=timer.kind)
    log.info("waiting timer sent", extra={"kind": timer.kind})
