"""The escalation loop's work: signals into cases, due chain steps, alert deliveries, audit.

Durable timers: every step is an ``EscalationStep`` row with a due time. A step runs in one
transaction that locks its case row (``FOR UPDATE SKIP LOCKED`` on PostgreSQL: a case being
worked on by another worker is skipped this round) and then the step row; the alerts it
queues, its ``done`` mark and the next step commit together. So with several workers each
step runs once, and a crash or restart loses nothing: an uncommitted step is still pending.

The chain never ends silently: after its last step it starts again at ``repeat_from``, for
as long as the case is not acknowledged. If nobody holds a role, everyone on call is paged;
if the roster cannot be read, the failure is written to the case log and retried.

The auditor reports steps overdue by more than a minute (log, metric, case log) and runs
them at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.db.models import OutboundMessage
from bot.escalation import notify
from bot.escalation.cases import ingest_signals, schedule
from bot.escalation.context import Escalation
from bot.escalation.models import (
    Case,
    CaseNotification,
    CaseStatus,
    EscalationStep,
    NotificationStatus,
    StepStatus,
)
from bot.escalation.roster import Roster
from bot.escalation.roster_file import NEXT_WORKING_MORNING, ChainStep, wait_seconds
from bot.observability import metrics

log = logging.getLogger(__name__)

OVERDUE_AFTER = timedelta(minutes=1)
SENT = frozenset({"sent", "delivered", "read"})
#: ``held``: a WhatsApp alert outside the window with no alert template configured.
FAILED = frozenset({"failed", "held", "undelivered", "undeliverable", "dead", "cancelled"})
#: How long after an alert was sent a late failure report still moves it to the next channel
#: (an outbox row's ``next_attempt_at`` is its sending time once sent).
LATE_FAILURE_WINDOW = timedelta(hours=6)

STEPS_RUN = metrics.counter(
    "bot_escalation_steps_total", "Escalation steps run, by outcome.", ("outcome",)
)
OVERDUE = metrics.counter(
    "bot_escalation_overdue_steps_total", "Escalation steps found overdue by the auditor."
)
OVERDUE_SECONDS = metrics.gauge(
    "bot_escalation_overdue_seconds", "How late the latest overdue step found was, in seconds."
)
ALERTS = metrics.counter(
    "bot_escalation_alerts_total",
    "Alerts to psychologists, by channel and outcome.",
    ("channel", "outcome"),
)


@dataclass
class TickReport:
    cases: int = 0
    steps: int = 0
    settled: int = 0
    overdue: int = 0

    @property
    def work(self) -> int:
        return self.cases + self.steps + self.settled


def tick(esc: Escalation) -> TickReport:
    """One round of the escalation loop (synchronous; the loop runs it in a thread)."""
    report = TickReport()
    report.cases = len(ingest_signals(esc))
    report.steps = run_due_steps(esc)  # a new case's first alert before anything else
    report.settled = settle_notifications(esc)
    report.overdue = audit(esc)
    return report


# --- steps -------------------------------------------------------------------------------------


def due_steps(esc: Escalation, before: datetime, limit: int = 100) -> list[tuple[int, int]]:
    with Session(esc.db) as session:
        rows = session.exec(
            select(EscalationStep.id, EscalationStep.case_id)
            .where(
                EscalationStep.status == StepStatus.PENDING, col(EscalationStep.due_at) <= before
            )
            .order_by(col(EscalationStep.due_at), col(EscalationStep.id))
            .limit(limit)
        ).all()
    return [(step_id or 0, case_id) for step_id, case_id in rows]


def run_due_steps(esc: Escalation) -> int:
    return sum(run_step(esc, step_id, case_id) for step_id, case_id in due_steps(esc, esc.clock()))


def run_step(esc: Escalation, step_id: int, case_id: int) -> int:
    """Run one due step; 1 if it ran (or was cancelled), 0 if another worker has it."""
    with Session(esc.db, expire_on_commit=False) as session:
        case = session.exec(
            select(Case).where(Case.id == case_id).with_for_update(skip_locked=True)
        ).first()
        if case is None:
            return 0
        step = session.exec(
            select(EscalationStep)
            .where(EscalationStep.id == step_id, EscalationStep.status == StepStatus.PENDING)
            .with_for_update()
        ).first()
        now = esc.clock()
        if step is None or step.due_at > now:
            return 0
        outcome = _execute(session, esc, case, step, now)
        session.commit()
    STEPS_RUN.inc(outcome=outcome)
    return 1


def _execute(
    session: Session, esc: Escalation, case: Case, step: EscalationStep, now: datetime
) -> str:
    step.ran_at = now
    step.ran_by = esc.worker_id[:64]
    session.add(step)
    if case.status != CaseStatus.OPEN:
        step.status = StepStatus.CANCELLED
        return "cancelled"
    chain = case.chain or {}
    steps = [ChainStep.model_validate(s) for s in chain.get("steps", [])] or [
        ChainStep(notify=["all"], wait="2m")
    ]
    position = min(step.position, len(steps) - 1)
    current = steps[position]
    roster = esc.roster
    if current.during == "working_hours" and roster is not None and not roster.is_working_time(now):
        step.ran_at = None
        step.due_at = roster.next_working_morning(now)
        case.next_step_at = step.due_at
        session.add(case)
        return "deferred"
    targets = _targets(roster, current, chain, position, now)
    assert case.id is not None
    if roster is None or not targets:
        log.error("escalation step with nobody to page", extra={"case": case.id})
        notify.event(
            session,
            case.id,
            "notify_failed",
            now,
            "system",
            step=step.step_index,
            reason="no_roster" if roster is None else "nobody_on_roster",
        )
    else:
        for pid in targets:
            person = roster.get(pid)
            if person is None:
                continue
            after = notify.undelivered_channel(session, case.id, pid)
            notify.alert(
                session,
                esc,
                case,
                person,
                now,
                step_index=step.step_index,
                after_channel=after,
                wrap=True,
            )
    if position > 0:
        notify.event(
            session,
            case.id,
            "escalated",
            now,
            "system",
            step=step.step_index,
            position=position,
            notify=list(targets),
        )
    if case.person_deleted_at is not None and position + 1 >= len(steps):
        # Nobody can contact a person who erased their data: the chain reaches its end once
        # (everyone it names learns of the case) and is not repeated; the case stays in the
        # queue until someone closes it.
        case.next_step_at = None
        notify.event(session, case.id, "chain_ended", now, "system", reason="person_deleted")
    else:
        following = position + 1 if position + 1 < len(steps) else int(chain.get("repeat_from", 0))
        schedule(session, case, min(following, len(steps) - 1), wait_end(roster, current, now), now)
    step.status = StepStatus.DONE
    session.add(case)
    return "ran"


def _targets(
    roster: Roster | None, step: ChainStep, chain: dict[str, object], position: int, now: datetime
) -> tuple[str, ...]:
    """Who this step pages now: its roles on the current roster; if nobody holds them,
    everyone on call; then whoever the snapshot named when the case started."""
    if roster is None:
        return ()
    found = roster.resolve(step.notify, now) or roster.resolve(["all"], now)
    if found:
        return found
    resolved = chain.get("resolved")
    if isinstance(resolved, list) and position < len(resolved):
        return tuple(pid for pid in resolved[position] if roster.get(pid) is not None)
    return tuple(roster.people)


def wait_end(roster: Roster | None, step: ChainStep, now: datetime) -> datetime:
    """When a step that paged at ``now`` stops waiting for an acknowledgement."""
    if step.wait == NEXT_WORKING_MORNING:
        return roster.next_working_morning(now) if roster is not None else now + timedelta(hours=12)
    return now + timedelta(seconds=wait_seconds(step.wait))


# --- the auditor --------------------------------------------------------------------------------


def audit(esc: Escalation) -> int:
    """Report steps overdue by more than a minute, then run them."""
    now = esc.clock()
    late = due_steps(esc, now - OVERDUE_AFTER)
    if not late:
        return 0
    with Session(esc.db) as session:
        for step_id, case_id in late:
            step = session.get(EscalationStep, step_id)
            if step is None or step.overdue_at is not None or step.status != StepStatus.PENDING:
                continue
            step.overdue_at = now
            session.add(step)
            lateness = (now - step.due_at).total_seconds()
            OVERDUE.inc()
            OVERDUE_SECONDS.set(lateness)
            notify.event(
                session,
                case_id,
                "overdue_step",
                now,
                "auditor",
                step=step.step_index,
                late_seconds=int(lateness),
            )
        session.commit()
    log.warning("escalation steps overdue; running them now", extra={"count": len(late)})
    for step_id, case_id in late:
        run_step(esc, step_id, case_id)
    return len(late)


# --- deliveries ---------------------------------------------------------------------------------


def settle_notifications(esc: Escalation, limit: int = 200) -> int:
    """Record alert deliveries; a failed alert is sent again on the psychologist's next
    channel. So is one Twilio accepted and reported undelivered later, in a status callback
    (``bot.channels.twilio.receipts``), within ``LATE_FAILURE_WINDOW`` of its sending."""
    with Session(esc.db, expire_on_commit=False) as session:
        now = esc.clock()
        outbox_status = col(OutboundMessage.status)
        settled = (
            CaseNotification.status == NotificationStatus.QUEUED,
            outbox_status.in_(SENT | FAILED),
        )
        failed_late = (
            CaseNotification.status == NotificationStatus.SENT,
            outbox_status.in_(FAILED),
            col(OutboundMessage.next_attempt_at) >= now - LATE_FAILURE_WINDOW,
        )
        rows: list[tuple[CaseNotification, str]] = []
        for where in (settled, failed_late):
            rows += session.exec(
                select(CaseNotification, OutboundMessage.status)
                .join(OutboundMessage, col(OutboundMessage.id) == CaseNotification.outbound_id)
                .where(*where)
                .order_by(col(CaseNotification.id))
                .limit(limit)
                .with_for_update(skip_locked=True, of=CaseNotification)
            ).all()
        for notification, status in rows:
            _settle(session, esc, notification, status in SENT, now)
        session.commit()
    return len(rows)


def _settle(
    session: Session, esc: Escalation, notification: CaseNotification, sent: bool, now: datetime
) -> None:
    notification.status = NotificationStatus.SENT if sent else NotificationStatus.FAILED
    notification.settled_at = now
    session.add(notification)
    ALERTS.inc(channel=notification.channel, outcome=notification.status)
    detail = {
        "psychologist": notification.psychologist_id,
        "channel": notification.channel,
        "notification": notification.id,
    }
    kind = "delivered" if sent else "notify_failed"
    notify.event(session, notification.case_id, kind, now, "system", **detail)
    if sent:
        return
    case = session.get(Case, notification.case_id)
    roster = esc.roster
    person = roster.get(notification.psychologist_id) if roster is not None else None
    if case is None or not case.is_open or person is None:
        return
    fallback = notify.alert(
        session,
        esc,
        case,
        person,
        now,
        step_index=notification.step_index,
        after_channel=notification.channel,
    )
    notification.fallback_id = fallback.id if fallback else None
