"""Risk signals become cases: one open case per person, which new signals join.

The escalation loop takes unprocessed ``RiskSignal`` rows (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL) and, in one transaction per batch, opens or updates the person's case, marks the
signals processed and schedules the first escalation step. A crash before the commit leaves
the signals unprocessed, so they are picked up again; the partial unique index on open cases
makes a concurrent second case impossible (the loser retries and joins the first).

Priority only goes up (imminent > high > moderate > routine). When it goes up on a case
nobody has acknowledged yet, the chain is replaced by the new priority's chain and restarts
at once; on an acknowledged case the psychologist who has it is alerted at once.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from bot.db.models import Conversation, Participant, RiskSignal, Screening
from bot.escalation import notify
from bot.escalation.context import Escalation
from bot.escalation.models import (
    PRIORITIES,
    Case,
    CaseStatus,
    EscalationStep,
    StepStatus,
    more_urgent,
)
from bot.escalation.roster import Roster
from bot.escalation.roster_file import DEFAULT_CHAINS

log = logging.getLogger(__name__)

MAX_SIGNALS_KEPT = 30
MAX_QUOTE_KEPT = 1000
RETRIES = 5


def reason_of(signal: RiskSignal) -> str:
    """Rule and item (instruments), the phrase that matched (free text), or the request."""
    detail = signal.detail or {}
    if signal.source == "instrument":
        answers = detail.get("answers") or {}
        items = ", ".join(f"{i} = {answers.get(i, '?')}" for i in detail.get("items") or [])
        total = detail.get("total")
        parts = [signal.rule_id, items, f"total {total}" if total is not None else ""]
        return " · ".join(p for p in parts if p)
    if signal.source == "free_text" and detail.get("matched"):
        return f"{signal.rule_id} · {signal.reason} · «{detail['matched']}»"
    return f"{signal.rule_id} · {signal.reason}"


def _signal_entry(signal: RiskSignal) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": signal.id,
        "rule": signal.rule_id,
        "priority": signal.priority,
        "source": signal.source,
        "at": signal.created_at.isoformat(),
        "reason": reason_of(signal),
    }
    detail = signal.detail or {}
    for key in ("answers", "total", "matched", "instrument", "items", "flag", "answer"):
        if key in detail:
            entry[key] = detail[key]
    return entry


def chain_snapshot(roster: Roster | None, priority: str, now: datetime) -> dict[str, Any]:
    """The chain for ``priority`` as it stands now: steps, waits, and who they would page."""
    chain = roster.chain(priority) if roster is not None else DEFAULT_CHAINS[priority]
    snapshot: dict[str, Any] = {
        "priority": priority,
        "steps": [step.model_dump() for step in chain.steps],
        "repeat_from": chain.repeat_from,
        "taken_at": now.isoformat(),
        "roster": roster.source if roster is not None else None,
    }
    if roster is not None:
        on_call = roster.on_call(now)
        snapshot["on_call"] = {
            "primary": list(on_call.primary),
            "backup": list(on_call.backup),
            "supervisor": list(on_call.supervisor),
        }
        snapshot["resolved"] = [list(roster.resolve(s.notify, now)) for s in chain.steps]
    return snapshot


def _person_snapshot(session: Session, participant_id: int | None) -> dict[str, Any]:
    if participant_id is None:
        return {}
    screenings = session.exec(
        select(Screening)
        .where(Screening.participant_id == participant_id)
        .order_by(col(Screening.completed_at).desc())
        .limit(5)
    ).all()
    found: dict[str, Any] = {
        "screenings": [
            {
                "instrument": s.instrument_id,
                "total": s.total,
                "band": s.band,
                "result": s.result,
                "answers": dict(s.answers),
                "flags": list(s.flags),
                "completed_at": s.completed_at.isoformat(),
            }
            for s in screenings
        ]
    }
    conv = session.exec(
        select(Conversation).where(Conversation.participant_id == participant_id)
    ).first()
    if conv is not None and conv.instrument_id:
        found["in_progress"] = {"instrument": conv.instrument_id, "answers": dict(conv.answers)}
    return found


def _quote(signal: RiskSignal) -> str | None:
    message = (signal.detail or {}).get("message")
    if signal.source == "free_text" and isinstance(message, str) and message:
        return message[:MAX_QUOTE_KEPT]
    return None


def schedule(session: Session, case: Case, position: int, due: datetime, now: datetime) -> None:
    """Add the case's next step (its index follows the last one) and show when it is due."""
    assert case.id is not None
    last = session.exec(
        select(func.max(EscalationStep.step_index)).where(EscalationStep.case_id == case.id)
    ).one()
    index = 0 if last is None else last + 1
    session.add(
        EscalationStep(
            case_id=case.id, step_index=index, position=position, due_at=due, created_at=now
        )
    )
    case.next_step_at = due


def cancel_steps(session: Session, case_id: int) -> None:
    session.execute(
        update(EscalationStep)
        .where(
            col(EscalationStep.case_id) == case_id, col(EscalationStep.status) == StepStatus.PENDING
        )
        .values(status=StepStatus.CANCELLED)
    )


def _open_case(session: Session, esc: Escalation, signal: RiskSignal, now: datetime) -> Case:
    participant = session.get(Participant, signal.participant_id) if signal.participant_id else None
    snapshot = _person_snapshot(session, signal.participant_id)
    snapshot["signals"] = [_signal_entry(signal)]
    quote = _quote(signal)
    if quote:
        snapshot["quote"] = quote
    case = Case(
        participant_id=signal.participant_id,
        channel=participant.channel if participant else "",
        priority=signal.priority,
        status=CaseStatus.OPEN,
        opened_at=min(signal.created_at, now),
        last_signal_at=signal.created_at,
        reason=reason_of(signal),
        snapshot=snapshot,
        chain=chain_snapshot(esc.roster, signal.priority, now),
    )
    if participant is None:
        # The person erased their data before this signal became a case (the "talk to a
        # psychologist, then BORRAR" race): a case about nobody who can be contacted.
        case.person_deleted_at = now
        snapshot["person_deleted"] = True
        snapshot.pop("quote", None)
    session.add(case)
    session.flush()
    assert case.id is not None
    notify.event(
        session,
        case.id,
        "created",
        now,
        "system",
        signal=signal.id,
        rule=signal.rule_id,
        priority=signal.priority,
        source=signal.source,
    )
    if participant is None:
        notify.event(session, case.id, "person_deleted_data", now, "system", still_open=True)
    schedule(session, case, 0, now, now)
    return case


def _join(session: Session, esc: Escalation, case: Case, signal: RiskSignal, now: datetime) -> None:
    assert case.id is not None
    snapshot = dict(case.snapshot or {})
    snapshot["signals"] = [*snapshot.get("signals", []), _signal_entry(signal)][-MAX_SIGNALS_KEPT:]
    quote = _quote(signal)
    if quote:
        snapshot["quote"] = quote
    case.snapshot = snapshot
    case.last_signal_at = max(case.last_signal_at, signal.created_at)
    notify.event(
        session,
        case.id,
        "signal_added",
        now,
        "system",
        signal=signal.id,
        rule=signal.rule_id,
        priority=signal.priority,
        source=signal.source,
    )
    raised = more_urgent(signal.priority, case.priority)
    if raised:
        notify.event(
            session,
            case.id,
            "priority_raised",
            now,
            "system",
            **{"from": case.priority, "to": signal.priority},
        )
        case.priority = signal.priority
        case.reason = reason_of(signal)
    if case.status == CaseStatus.OPEN:
        if raised:
            cancel_steps(session, case.id)
            case.chain = chain_snapshot(esc.roster, case.priority, now)
            schedule(session, case, 0, now, now)
    else:
        _alert_owner(session, esc, case, now)
    session.add(case)


def _alert_owner(session: Session, esc: Escalation, case: Case, now: datetime) -> None:
    """A new signal on a case someone has: tell them now (the chain is not restarted)."""
    roster = esc.roster
    owner_id = case.conversation_with or case.acknowledged_by
    owner = roster.get(owner_id) if roster is not None and owner_id else None
    if owner is not None:
        notify.alert(session, esc, case, owner, now, step_index=-1, new_signal=True)


def _apply(session: Session, esc: Escalation, signal: RiskSignal, now: datetime) -> int:
    case = None
    if signal.participant_id is not None:
        case = session.exec(
            select(Case)
            .where(Case.participant_id == signal.participant_id, Case.status != CaseStatus.RESOLVED)
            .with_for_update()
        ).first()
    if signal.priority not in PRIORITIES:
        log.error("risk signal with an unknown priority; treated as high")
        signal.priority = "high"
    if case is None:
        case = _open_case(session, esc, signal, now)
    else:
        _join(session, esc, case, signal, now)
    signal.processed_at = now
    session.add(signal)
    return case.id or 0


def ingest_signals(esc: Escalation, limit: int = 100) -> list[int]:
    """Turn unprocessed signals into cases; returns the ids of the cases touched."""
    for _attempt in range(RETRIES):
        now = esc.clock()
        try:
            with Session(esc.db, expire_on_commit=False) as session:
                signals = session.exec(
                    select(RiskSignal)
                    .where(
                        col(RiskSignal.processed_at).is_(None),
                        # A held signal (unanswered check question) waits for its time.
                        or_(
                            col(RiskSignal.not_before).is_(None), col(RiskSignal.not_before) <= now
                        ),
                    )
                    .order_by(col(RiskSignal.id))
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                ).all()
                touched = [_apply(session, esc, signal, now) for signal in signals]
                session.commit()
                return list(dict.fromkeys(touched))
        except (IntegrityError, StaleDataError):
            log.info("case changed concurrently; retrying the signals")
    raise RuntimeError("could not turn risk signals into cases after repeated conflicts")
