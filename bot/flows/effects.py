"""Applying a step's effects (``bot.flows.types``): the rows the engine asked for, written
in the step's transaction. The engine decides; this only stores."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col

from bot.db.models import (
    Consent,
    DetectionReview,
    RiskSignal,
    SafetyPlan,
    Screening,
    TimerKind,
    TimerStatus,
    WaitingTimer,
)
from bot.flows.erasure import erase_person
from bot.flows.recorder import MAX_STORED_TEXT
from bot.flows.step_hooks import StepHooks, StepOutcome
from bot.flows.store import Person
from bot.flows.types import (
    DeleteData,
    Effect,
    ForgetMessages,
    NoteForReview,
    RaiseSignal,
    RecordConsent,
    SaveSafetyPlan,
    SaveScreening,
    SetOptOut,
    StartWaiting,
    WithdrawHeldSignals,
)

log = logging.getLogger(__name__)


class EffectWriter:
    """Writes one effect of a step for one person, in the step's session."""

    def __init__(self, hooks: StepHooks | None) -> None:
        self.hooks = hooks

    def apply(
        self,
        session: Session,
        effect: Effect,
        person: Person,
        now: datetime,
        outcome: StepOutcome,
        kept_text: str | None = None,
        language: str = "es",
    ) -> None:
        """``kept_text``: the message's text when it is kept (the person consented), else
        None; ``language``: the conversation's language after the step."""
        pid = person.id
        match effect:
            case RecordConsent(given=given, text_version=version):
                session.add(
                    Consent(
                        participant_id=pid,
                        given=given,
                        text_version=version,
                        language=person.language,
                        recorded_at=now,
                    )
                )
            case SaveScreening():
                session.add(
                    Screening(
                        participant_id=pid,
                        instrument_id=effect.instrument_id,
                        instrument_version=effect.instrument_version,
                        language=person.language,
                        answers=effect.answers,
                        total=effect.total,
                        max_total=effect.max_total,
                        band=effect.band,
                        result=effect.result,
                        positive=effect.positive,
                        flags=effect.flags,
                        started_at=effect.started_at,
                        completed_at=now,
                    )
                )
            case RaiseSignal():
                session.add(
                    RiskSignal(
                        participant_id=pid,
                        source=effect.source,
                        rule_id=effect.rule_id,
                        priority=effect.priority,
                        reason=effect.reason,
                        detail=effect.detail,
                        created_at=now,
                        not_before=now + effect.hold_for if effect.hold_for else None,
                    )
                )
                outcome.signals += 1
                log.warning(
                    "risk signal raised",
                    extra={"rule": effect.rule_id, "priority": effect.priority},
                )
            case WithdrawHeldSignals(rule_id=rule_id, reason=reason):
                session.flush()
                # Not yet acted on: escalation takes a held signal only once its time has
                # come and it is unprocessed; a signal it already took stays (a case opened).
                session.execute(
                    update(RiskSignal)
                    .where(
                        col(RiskSignal.participant_id) == pid,
                        col(RiskSignal.rule_id) == rule_id,
                        col(RiskSignal.processed_at).is_(None),
                        col(RiskSignal.not_before).is_not(None),
                    )
                    .values(processed_at=now, withdrawn_at=now, reason=reason)
                )
            case SetOptOut(opted_out=opted_out):
                person.opted_out_at = now if opted_out else None
            case ForgetMessages():
                erase_person(session, pid, now, self.hooks, keep_refusal=True)
            case NoteForReview(kind=kind, category=category, score=score):
                if kept_text:  # never without consent: a row without its words is no use
                    session.add(
                        DetectionReview(
                            participant_id=pid,
                            kind=kind,
                            text=kept_text[:MAX_STORED_TEXT],
                            language=language,
                            category=category,
                            score=score,
                            created_at=now,
                        )
                    )
            case DeleteData():
                erase_person(session, pid, now, self.hooks)
            case StartWaiting():
                start_waiting(session, pid, effect, now)
            case SaveSafetyPlan(steps=steps):
                session.add(
                    SafetyPlan(
                        participant_id=pid,
                        steps=dict(steps),
                        language=person.language,
                        created_at=now,
                    )
                )
                if self.hooks is not None:
                    session.flush()
                    self.hooks.note_waiting(session, pid, 0, "safety_plan", now)


def start_waiting(session: Session, pid: int, effect: StartWaiting, now: datetime) -> None:
    """Durable timers for the check-ins and the "nobody has answered yet" notice; a new
    start replaces the timers of an earlier one."""
    session.execute(
        update(WaitingTimer)
        .where(
            col(WaitingTimer.participant_id) == pid,
            col(WaitingTimer.status) == TimerStatus.PENDING,
        )
        .values(status=TimerStatus.CANCELLED)
    )
    for minutes in effect.checkins:
        session.add(
            WaitingTimer(
                participant_id=pid,
                kind=TimerKind.CHECKIN,
                due_at=now + timedelta(minutes=minutes),
                created_at=now,
            )
        )
    session.add(
        WaitingTimer(
            participant_id=pid,
            kind=TimerKind.NO_ACK,
            due_at=now + timedelta(minutes=effect.expect_minutes),
            created_at=now,
        )
    )
