"""Erasing a person for real: what a step does on "borrar mis datos" (``DeleteData``) or a
refusal of consent (``ForgetMessages``), in the step's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlmodel import Session, col

from bot.db.models import (
    Consent,
    Conversation,
    DetectionReview,
    InboundMessage,
    OutboundMessage,
    Participant,
    RiskSignal,
    SafetyPlan,
    Screening,
    WaitingTimer,
)
from bot.flows.step_hooks import StepHooks

#: What an erased person's inbox rows keep instead of the hash of their identifier: the rows
#: stay (a late redelivery is still recognised by its provider id) but lead to nobody.
ERASED_SENDER = "erased"


def erase_person(
    session: Session,
    pid: int,
    now: datetime,
    hooks: StepHooks | None,
    *,
    keep_refusal: bool = False,
) -> None:
    """Erase a person: profile, identifiers, conversation, consents, screenings, the words
    (and files) of their messages and of their risk signals, and the replies sent to them.
    Inbound ids stay (without text, owner or sender) so a late redelivery is still
    recognised; risk signals stay without their words (rule, priority, time), and so does an
    open case (``StepHooks.person_deleted``). ``keep_refusal``: a refusal of consent keeps
    the refusal itself, attached to nobody."""
    session.flush()
    participant = session.get(Participant, pid)
    if participant is None:
        return
    if hooks is not None:  # an open case stays, without the person's words
        hooks.person_deleted(session, participant, now)
    session.execute(
        update(InboundMessage)
        .where(col(InboundMessage.participant_id) == pid)
        .values(
            text=None,
            payload=None,
            media_kind=None,
            media_type=None,
            media_ref_enc=None,
            participant_id=None,
            sender_hash=ERASED_SENDER,
            sender_enc=None,
            error=None,
        )
    )
    session.execute(delete(OutboundMessage).where(col(OutboundMessage.participant_id) == pid))
    session.execute(
        update(RiskSignal)
        .where(col(RiskSignal.participant_id) == pid)
        .values(participant_id=None, detail={})
    )
    if keep_refusal:
        session.execute(
            update(Consent)
            .where(col(Consent.participant_id) == pid, col(Consent.given) == False)  # noqa: E712
            .values(participant_id=None)
        )
    for model in (Screening, Consent, Conversation, DetectionReview, WaitingTimer, SafetyPlan):
        session.execute(delete(model).where(col(model.participant_id) == pid))
    session.delete(participant)
    session.flush()
