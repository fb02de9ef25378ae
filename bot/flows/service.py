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
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Engine, delete, or_, text, update
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
#: A message whose step fails this many times is set aside as ``failed``.
MAX_STEP_FAILURES = 3
#: Longest text kept for a message (a 10 kB paste is cut, never refused).
MAX_STORED_TEXT = 10_000
#: How long an inline (simulator) message may stay pending before the inbox loop takes it.
INLINE_GRACE = timedelta(seconds=30)


class ConcurrencyError(RuntimeError):
    """The step lost the race for the conversation too many times in a row."""


@dataclass
class StepOutcome:
    inbound_id: int | None = None
    duplicate: bool = False
    replies: list[Reply] = field(default_factory=list)
    outbound_ids: list[int] = field(default_factory=list)
    participant_id: int | None = None
    signals: int = 0


@dataclass(frozen=True, slots=True)
class Received:
    """The result of recording an inbound message: its row id, or a known duplicate."""

    inbound_id: int | None
    channel: str
    sender_hash: str

    @property
    def duplicate(self) -> bool:
        return self.inbound_id is None


class StepHooks(Protocol):
    """Escalation's hooks into a step (``bot.escalation.hooks``), run in the step's
    transaction: staff messages, the pause while a psychologist talks with the person, and
    the person's open case when they delete their data."""

    def staff_step(
        self, session: Session, inbound: InboundMessage, now: datetime
    ) -> StepOutcome | None: ...

    def paused_for(self, session: Session, participant: Participant) -> bool: ...

    def relay(
        self, session: Session, participant: Participant, inbound: InboundMessage, now: datetime
    ) -> list[int]: ...

    def person_deleted(self, session: Session, participant: Participant, now: datetime) -> None: ...


class ConversationService:
    """Records inbound messages (the inbox) and runs conversation steps over them.

    ``receive`` is the fast, durable intake a webhook does before answering 2xx.
    ``process_sender`` runs the pending messages of one person, in order, one transaction
    each. ``handle`` does both at once (the simulators).
    """

    def __init__(
        self,
        db: Engine,
        flow: FlowEngine,
        cipher: Cipher,
        *,
        default_language: str = "es",
        inline_channels: Collection[str] = ("sim",),
        clock: Callable[[], datetime] = utcnow,
        hooks: StepHooks | None = None,
    ) -> None:
        self.db = db
        self.hooks = hooks
        self.flow = flow
        self.cipher = cipher
        self.default_language = default_language
        self.inline_channels = frozenset(inline_channels)
        self.clock = clock
        self._postgres = db.dialect.name == "postgresql"

    # --- intake -------------------------------------------------------------------------------

    def inbound_row(self, msg: Inbound) -> InboundMessage:
        return InboundMessage(
            channel=msg.channel,
            provider_message_id=msg.provider_message_id,
            sender_hash=self.cipher.lookup_hash(msg.channel, msg.external_id),
            sender_enc=self.cipher.encrypt(msg.external_id),
            kind=msg.kind,
            text=msg.text[:MAX_STORED_TEXT] if msg.text else None,
            payload=msg.payload,
            received_at=msg.received_at,
        )

    def receive(self, msg: Inbound) -> Received:
        """Record ``msg`` durably. A redelivery of a recorded message returns a duplicate."""
        row = self.inbound_row(msg)
        try:
            with Session(self.db, expire_on_commit=False) as session:
                session.add(row)
                session.commit()
        except IntegrityError:
            log.info("duplicate delivery dropped", extra={"channel": msg.channel})
            return Received(None, msg.channel, row.sender_hash)
        return Received(row.id, msg.channel, row.sender_hash)

    def handle(self, msg: Inbound) -> StepOutcome:
        """Receive and process at once; the outcome of ``msg`` itself is returned."""
        received = self.receive(msg)
        if received.duplicate:
            return StepOutcome(duplicate=True)
        outcomes = self.process_sender(received.channel, received.sender_hash)
        for outcome in outcomes:
            if outcome.inbound_id == received.inbound_id:
                return outcome
        # Another worker processed it first; its replies are in the outbox.
        return StepOutcome(inbound_id=received.inbound_id)

    # --- processing -----------------------------------------------------------------------

    def pending_senders(self, limit: int = 100) -> list[tuple[str, str]]:
        """People with messages waiting, oldest first. Messages of inline channels (the
        simulator) are left to the request that received them, unless it died on them."""
        abandoned = self.clock() - INLINE_GRACE
        with Session(self.db) as session:
            rows = session.exec(
                select(InboundMessage.channel, InboundMessage.sender_hash, InboundMessage.id)
                .where(
                    InboundMessage.status == "pending",
                    or_(
                        InboundMessage.channel.not_in(self.inline_channels),  # type: ignore[attr-defined]
                        InboundMessage.received_at < abandoned,
                    ),
                )
                .order_by(InboundMessage.id)  # type: ignore[arg-type]
                .limit(limit * 4)
            ).all()
        senders: list[tuple[str, str]] = []
        for channel, sender, _ in rows:
            if (channel, sender) not in senders:
                senders.append((channel, sender))
        return senders[:limit]

    def process_pending(self, limit: int = 100) -> list[StepOutcome]:
        outcomes: list[StepOutcome] = []
        for channel, sender in self.pending_senders(limit):
            outcomes.extend(self.process_sender(channel, sender))
        return outcomes

    def process_sender(self, channel: str, sender_hash: str) -> list[StepOutcome]:
        """Run every pending message of one person, oldest first, one transaction each."""
        outcomes: list[StepOutcome] = []
        while True:
            outcome = self._process_next(channel, sender_hash)
            if outcome is None:
                return outcomes
            outcomes.append(outcome)

    def _process_next(self, channel: str, sender_hash: str) -> StepOutcome | None:
        for _attempt in range(MAX_ATTEMPTS):
            inbound_id: int | None = None
            try:
                with Session(self.db, expire_on_commit=False) as session:
                    self._lock_sender(session, channel, sender_hash)
                    inbound = session.exec(
                        select(InboundMessage)
                        .where(
                            InboundMessage.channel == channel,
                            InboundMessage.sender_hash == sender_hash,
                            InboundMessage.status == "pending",
                        )
                        .order_by(InboundMessage.id)  # type: ignore[arg-type]
                        .limit(1)
                        .with_for_update()
                    ).first()
                    if inbound is None:
                        return None
                    inbound_id = inbound.id
                    outcome = self._step(session, inbound)
                    session.commit()
                    return outcome
            except (IntegrityError, StaleDataError):
                log.info("conversation changed concurrently; retrying")
            except Exception:  # a poison message must not block the person's queue
                log.exception("conversation step failed", extra={"inbound_id": inbound_id})
                if inbound_id is None:
                    raise
                self._record_failure(inbound_id)
        raise ConcurrencyError("could not process the message after repeated conflicts")

    def _record_failure(self, inbound_id: int) -> None:
        """Count a failed step; after ``MAX_STEP_FAILURES`` the message is set aside as
        ``failed`` (crisis words in it still raise a signal, so no risk is lost)."""
        with Session(self.db) as session:
            inbound = session.get(InboundMessage, inbound_id)
            if inbound is None or inbound.status != "pending":
                return
            inbound.attempts += 1
            if inbound.attempts >= MAX_STEP_FAILURES:
                inbound.status = "failed"
                inbound.processed_at = self.clock()
                crisis = self.flow.detect_crisis(inbound.text or "")
                if crisis is not None:
                    participant = session.exec(
                        select(Participant).where(
                            Participant.channel == inbound.channel,
                            Participant.external_hash == inbound.sender_hash,
                        )
                    ).first()
                    session.add(
                        RiskSignal(
                            participant_id=participant.id if participant else None,
                            source="free_text",
                            rule_id=f"text.{crisis.pattern_id}",
                            priority=crisis.priority,
                            reason=f"{crisis.category} (message could not be processed)",
                            detail={"matched": crisis.matched, "inbound_id": inbound.id},
                            created_at=self.clock(),
                        )
                    )
            session.add(inbound)
            session.commit()

    def _lock_sender(self, session: Session, channel: str, sender_hash: str) -> None:
        """Serialise steps for one person across processes (SQLite: BEGIN IMMEDIATE)."""
        if self._postgres:
            key = int(sender_hash[:15], 16)  # 60 bits: fits a bigint
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})

    # --- the step ---------------------------------------------------------------------------

    def _step(self, session: Session, inbound: InboundMessage) -> StepOutcome:
        now = self.clock()
        if self.hooks is not None:  # a message from on-call staff is not a conversation step
            staff = self.hooks.staff_step(session, inbound, now)
            if staff is not None:
                return staff
        participant = self._participant(session, inbound, now)
        msg = Inbound(
            channel=inbound.channel,
            external_id="",  # the engine never needs the identifier
            provider_message_id=inbound.provider_message_id,
            received_at=inbound.received_at,
            text=inbound.text or "",
            payload=inbound.payload,
            kind="text" if inbound.kind == "text" else "unsupported",
        )
        row = session.exec(
            select(Conversation).where(Conversation.participant_id == participant.id)
        ).first()
        conv = self._load_state(row, participant)
        # A psychologist is talking with the person: the flow pauses (crisis words still count).
        paused = self.hooks is not None and self.hooks.paused_for(session, participant)
        step = (self.flow.step_paused if paused else self.flow.step)(conv, msg, now)

        inbound.participant_id = participant.id
        inbound.status = "done"
        inbound.processed_at = now
        inbound.sender_enc = None
        if conv.state in NO_CONSENT_STATES and not _consented(step.effects):
            inbound.text = None  # without consent nothing is kept
        session.add(inbound)
        session.flush()

        outcome = StepOutcome(
            inbound_id=inbound.id, participant_id=participant.id, replies=step.replies
        )
        deleted = any(isinstance(e, DeleteData) for e in step.effects)
        for effect in step.effects:
            self._apply(session, effect, participant, now, outcome)
        if not deleted:
            participant.language = conv.language
            participant.last_inbound_at = max(
                participant.last_inbound_at or inbound.received_at, inbound.received_at
            )
            session.add(participant)
            self._save_state(session, row, participant, conv)
        outcome.outbound_ids = self._queue(
            session, participant, step.replies, inbound.channel, now, detached=deleted
        )
        if paused and self.hooks is not None:
            outcome.outbound_ids += self.hooks.relay(session, participant, inbound, now)
        return outcome

    def _participant(self, session: Session, inbound: InboundMessage, now: datetime) -> Participant:
        participant = session.exec(
            select(Participant)
            .where(
                Participant.channel == inbound.channel,
                Participant.external_hash == inbound.sender_hash,
            )
            .with_for_update()
        ).first()
        if participant is None:
            if inbound.sender_enc is None:
                raise ValueError("pending inbound message without its sender")
            participant = Participant(
                channel=inbound.channel,
                external_hash=inbound.sender_hash,
                external_enc=inbound.sender_enc,
                pseudonym=self.cipher.pseudonym(inbound.sender_hash),
                language=self.default_language,
                created_at=now,
            )
            session.add(participant)
            session.flush()
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
        if self.hooks is not None:  # an open case stays, without the person's words
            self.hooks.person_deleted(session, participant, self.clock())
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
