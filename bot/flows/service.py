"""One conversation step in one transaction: intake, engine, effects, outbox.

Exactly-once: the inbound message is recorded under a unique (channel, provider id)
constraint in the same transaction as the step, so a redelivery is recognised and not
processed again. Per-person ordering: the participant row is locked (``FOR UPDATE`` on
PostgreSQL; SQLite serialises writers with ``BEGIN IMMEDIATE``) and the conversation
carries a version, so two messages from one person never interleave.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, select

from bot.crypto import Cipher
from bot.db.models import (
    Consent,
    Conversation,
    InboundMessage,
    OutboundMessage,
    Participant,
    RiskSignal,
    Screening,
    utcnow,
)
from bot.flows.machine import Engine as FlowEngine
from bot.flows.state import ConvState, State
from bot.flows.types import (
    DeleteData,
    Effect,
    ForgetMessages,
    Inbound,
    RaiseSignal,
    RecordConsent,
    Reply,
    SaveScreening,
    SetOptOut,
)

log = logging.getLogger(__name__)

#: States in which the person has not (or no longer) consented: message text is not kept.
NO_CONSENT_STATES = frozenset({State.NEW, State.CONSENT, State.REFUSED})
MAX_ATTEMPTS = 8


class ConcurrencyError(RuntimeError):
    """The step lost the race for the conversation too many times in a row."""


@dataclass
class StepOutcome:
    duplicate: bool = False
    replies: list[Reply] = field(default_factory=list)
    outbound_ids: list[int] = field(default_factory=list)
    participant_id: int | None = None
    signals: int = 0


class ConversationService:
    """Runs the engine for one inbound message, inside one database transaction."""

    def __init__(
        self,
        db: Engine,
        flow: FlowEngine,
        cipher: Cipher,
        *,
        default_language: str = "es",
        inline_channels: Collection[str] = ("sim",),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.flow = flow
        self.cipher = cipher
        self.default_language = default_language
        self.inline_channels = frozenset(inline_channels)
        self.clock = clock

    def handle(self, msg: Inbound) -> StepOutcome:
        for _attempt in range(MAX_ATTEMPTS):
            try:
                with Session(self.db, expire_on_commit=False) as session:
                    outcome = self._step(session, msg)
                    session.commit()
                    return outcome
            except IntegrityError:
                if self._already_received(msg):
                    log.info("duplicate delivery dropped", extra={"channel": msg.channel})
                    return StepOutcome(duplicate=True)
            except StaleDataError:
                log.info("conversation changed concurrently; retrying")
        raise ConcurrencyError("could not process the message after repeated conflicts")

    def _already_received(self, msg: Inbound) -> bool:
        with Session(self.db) as session:
            found = session.exec(
                select(InboundMessage.id).where(
                    InboundMessage.channel == msg.channel,
                    InboundMessage.provider_message_id == msg.provider_message_id,
                )
            ).first()
            return found is not None

    # --- the step ---------------------------------------------------------------------------

    def _step(self, session: Session, msg: Inbound) -> StepOutcome:
        now = self.clock()
        participant = self._participant(session, msg, now)
        inbound = InboundMessage(
            channel=msg.channel,
            provider_message_id=msg.provider_message_id,
            participant_id=participant.id,
            kind=msg.kind,
            text=None,
            received_at=now,
        )
        session.add(inbound)
        session.flush()  # a redelivery fails here, on the unique constraint

        row = session.exec(
            select(Conversation).where(Conversation.participant_id == participant.id)
        ).first()
        conv = self._load_state(row, participant)
        step = self.flow.step(conv, msg, now)
        if conv.state not in NO_CONSENT_STATES or _consented(step.effects):
            inbound.text = msg.text[:10_000] if msg.text else None

        outcome = StepOutcome(participant_id=participant.id, replies=step.replies)
        deleted = any(isinstance(e, DeleteData) for e in step.effects)
        for effect in step.effects:
            self._apply(session, effect, participant, now, outcome)
        if not deleted:
            participant.language = conv.language
            participant.last_inbound_at = now
            session.add(participant)
            self._save_state(session, row, participant, conv)
        outcome.outbound_ids = self._queue(
            session, participant, step.replies, msg.channel, now, detached=deleted
        )
        return outcome

    def _participant(self, session: Session, msg: Inbound, now: datetime) -> Participant:
        lookup = self.cipher.lookup_hash(msg.channel, msg.external_id)
        participant = session.exec(
            select(Participant)
            .where(Participant.channel == msg.channel, Participant.external_hash == lookup)
            .with_for_update()
        ).first()
        if participant is None:
            participant = Participant(
                channel=msg.channel,
                external_hash=lookup,
                external_enc=self.cipher.encrypt(msg.external_id),
                pseudonym=self.cipher.pseudonym(lookup),
                language=self.default_language,
                created_at=now,
            )
            session.add(participant)
            session.flush()  # two first contacts at once: one fails here and retries
        return participant

    def _load_state(self, row: Conversation | None, participant: Participant) -> ConvState:
        if row is None:
            return ConvState(language=participant.language, opted_out=False)
        return ConvState(
            state=State(row.state),
            language=row.language,
            instrument_id=row.instrument_id,
            item_id=row.item_id,
            answers=dict(row.answers),
            plan=list(row.plan),
            context=dict(row.context),
            last_activity_at=row.last_activity_at,
            opted_out=participant.opted_out_at is not None,
        )

    def _save_state(
        self, session: Session, row: Conversation | None, participant: Participant, conv: ConvState
    ) -> None:
        if row is None:
            row = Conversation(
                participant_id=participant.id or 0,
                state=conv.state.value,
                language=conv.language,
                last_activity_at=conv.last_activity_at or self.clock(),
            )
        row.state = conv.state.value
        row.language = conv.language
        row.instrument_id = conv.instrument_id
        row.item_id = conv.item_id
        row.answers = dict(conv.answers)
        row.plan = list(conv.plan)
        row.context = dict(conv.context)
        row.last_activity_at = conv.last_activity_at or self.clock()
        session.add(row)
        session.flush()  # a concurrent change of the same conversation fails here

    # --- effects ------------------------------------------------------------------------------

    def _apply(
        self,
        session: Session,
        effect: Effect,
        participant: Participant,
        now: datetime,
        outcome: StepOutcome,
    ) -> None:
        pid = participant.id
        match effect:
            case RecordConsent(given=given, text_version=version):
                session.add(
                    Consent(
                        participant_id=pid or 0,
                        given=given,
                        text_version=version,
                        language=participant.language,
                        recorded_at=now,
                    )
                )
            case SaveScreening():
                session.add(
                    Screening(
                        participant_id=pid or 0,
                        instrument_id=effect.instrument_id,
                        instrument_version=effect.instrument_version,
                        language=participant.language,
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
                    )
                )
                outcome.signals += 1
                log.warning(
                    "risk signal raised",
                    extra={"rule": effect.rule_id, "priority": effect.priority},
                )
            case SetOptOut(opted_out=opted_out):
                participant.opted_out_at = now if opted_out else None
            case ForgetMessages():
                session.flush()
                session.execute(
                    update(InboundMessage)
                    .where(InboundMessage.participant_id == pid)  # type: ignore[arg-type]
                    .values(text=None)
                )
            case DeleteData():
                self._delete_person(session, participant)

    def _delete_person(self, session: Session, participant: Participant) -> None:
        """Erase a person: profile, conversation, consents, screenings, message texts.
        Inbound ids stay (without text or owner) so a late redelivery is still recognised."""
        pid = participant.id
        session.flush()
        session.execute(
            update(InboundMessage)
            .where(InboundMessage.participant_id == pid)  # type: ignore[arg-type]
            .values(text=None, participant_id=None)
        )
        session.execute(delete(OutboundMessage).where(OutboundMessage.participant_id == pid))  # type: ignore[arg-type]
        session.execute(
            update(RiskSignal)
            .where(RiskSignal.participant_id == pid)  # type: ignore[arg-type]
            .values(participant_id=None)
        )
        for model in (Screening, Consent, Conversation):
            session.execute(delete(model).where(model.participant_id == pid))  # type: ignore[attr-defined]
        session.delete(participant)

    # --- outbox -------------------------------------------------------------------------------

    def _queue(
        self,
        session: Session,
        participant: Participant,
        replies: list[Reply],
        channel: str,
        now: datetime,
        *,
        detached: bool,
    ) -> list[int]:
        inline = channel in self.inline_channels
        rows = [
            OutboundMessage(
                participant_id=None if detached else participant.id,
                channel=channel,
                recipient_hash=participant.external_hash,
                recipient_enc=None if inline else participant.external_enc,
                text=reply.text,
                choices=[
                    {"key": c.key, "label": c.label, "payload": c.payload} for c in reply.choices
                ],
                status="sent" if inline else "pending",
                next_attempt_at=now,
                created_at=now,
                sent_at=now if inline else None,
            )
            for reply in replies
        ]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows if row.id is not None]


def _consented(effects: list[Effect]) -> bool:
    return any(isinstance(e, RecordConsent) and e.given for e in effects)
