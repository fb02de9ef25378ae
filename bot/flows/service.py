"""One conversation step in one transaction: intake, engine, effects, outbox.

Exactly-once: the inbound message is recorded under a unique (channel, provider id)
constraint in the same transaction as the step, so a redelivery is recognised and not
processed again. Per-person ordering: the person is locked (an advisory lock on
PostgreSQL; SQLite serialises writers with ``BEGIN IMMEDIATE``) and the conversation
carries a version, so two messages from one person never interleave. The common path's SQL
is in ``bot.flows.store``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, bindparam, delete, or_, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from bot.crypto import Cipher, new_pseudonym
from bot.db.engine import read_only
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
    utcnow,
)
from bot.flows.machine import CrisisDetector
from bot.flows.machine import Engine as FlowEngine
from bot.flows.state import ConvState, State
from bot.flows.store import PendingMessage, Person, StepStore, StoredConversation
from bot.flows.types import (
    DeleteData,
    Effect,
    ForgetMessages,
    Inbound,
    NoteForReview,
    RaiseSignal,
    RecordConsent,
    SaveSafetyPlan,
    SaveScreening,
    SetOptOut,
    StartWaiting,
    WithdrawHeldSignals,
)
from bot.flows.waiting import WAITING_STATES
from bot.outbox.enums import Channel, Purpose
from bot.outbox.queue import Recipient, enqueue_many, outbox_row
from bot.outbox.reply import Reply
from bot.outbox.window import HOLDING_CHANNELS, count_released, may_have_held, release_held

log = logging.getLogger(__name__)

#: States in which the person has not (or no longer) consented: message text is not kept.
NO_CONSENT_STATES = frozenset({State.NEW, State.LANGUAGE, State.CONSENT, State.REFUSED})
MAX_ATTEMPTS = 8
#: A message whose step fails this many times is set aside as ``failed``.
MAX_STEP_FAILURES = 3
#: Longest text kept for a message (a 10 kB paste is cut, never refused).
MAX_STORED_TEXT = 10_000
#: What an erased person's inbox rows keep instead of the hash of their identifier: the rows
#: stay (a late redelivery is still recognised by its provider id) but lead to nobody.
ERASED_SENDER = "erased"
#: How long an inline (simulator) message may stay pending before the inbox loop takes it.
INLINE_GRACE = timedelta(seconds=30)
_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(:key)")


def holds_crisis_words(msg: Inbound, detect: CrisisDetector) -> bool:
    """Whether ``msg`` is recorded ``urgent``: its text holds crisis words (the crisis lane
    then runs it ahead of the inbox queue, ``bot.escalation.fastlane``)."""
    return msg.kind == "text" and bool(msg.text) and detect(msg.text) is not None


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
    #: Held messages queued again because the person wrote (their window reopened).
    released: int = 0


@dataclass(frozen=True, slots=True)
class Received:
    """The result of recording an inbound message: its row id, or a known duplicate."""

    inbound_id: int | None
    channel: str
    sender_hash: str
    #: Crisis words were found in the message (the crisis lane runs it first).
    urgent: bool = False

    @property
    def duplicate(self) -> bool:
        return self.inbound_id is None


class StepHooks(Protocol):
    """Escalation's hooks into a step (``bot.escalation.hooks``), run in the step's
    transaction: staff messages, the pause while a psychologist talks with the person, and
    the person's open case when they delete their data."""

    def is_staff(self, channel: str, sender_hash: str, payload: str | None) -> bool:
        """Whether the message goes to ``staff_step`` instead of the conversation engine."""
        ...

    def staff_step(
        self, session: Session, inbound: InboundMessage, now: datetime
    ) -> StepOutcome: ...

    def paused_for(self, conn: Connection, participant_id: int) -> bool: ...

    def relay(
        self,
        session: Session,
        participant_id: int,
        inbound_id: int,
        text: str | None,
        now: datetime,
        *,
        media: str | None = None,
    ) -> list[int]: ...

    def person_deleted(self, session: Session, participant: Participant, now: datetime) -> None: ...

    def waiting_over(self, conn: Connection, participant_id: int) -> bool:
        """Whether a waiting person's case was resolved (no open case, no signal pending)."""
        ...

    def note_waiting(
        self,
        session: Session,
        participant_id: int,
        inbound_id: int,
        kind: str,
        now: datetime,
        *,
        media: str | None = None,
    ) -> bool:
        """A message (or a file, or a safety plan) from a waiting person joins their case;
        a file (``media``: its kind) joins any open case. True when a case took it."""
        ...


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
        inline_channels: Collection[str] = (Channel.SIM,),
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
        self.store = StepStore(self._postgres)
        self._pending = (
            select(InboundMessage.channel, InboundMessage.sender_hash)
            .where(
                InboundMessage.status == "pending",
                or_(
                    col(InboundMessage.channel).not_in(self.inline_channels),
                    InboundMessage.received_at < bindparam("b_abandoned"),
                ),
            )
            .order_by(col(InboundMessage.id))
            .limit(bindparam("b_limit"))
        )
        self._urgent = self._pending.where(InboundMessage.urgent == True)  # noqa: E712

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
            media_kind=msg.media.kind if msg.media else None,
            media_type=msg.media.content_type if msg.media else None,
            media_ref_enc=(
                self.cipher.encrypt(msg.media.ref) if msg.media and msg.media.ref else None
            ),
            urgent=holds_crisis_words(msg, self.flow.detect_crisis),
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
        return Received(row.id, msg.channel, row.sender_hash, row.urgent)

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

    def pending_senders(self, limit: int = 100) -> list[tuple[str, str, int]]:
        """People with messages waiting, oldest first, with how many of theirs were seen
        waiting. Messages of inline channels (the simulator) are left to the request that
        received them, unless it died on them."""
        abandoned = self.clock() - INLINE_GRACE
        with read_only(self.db) as conn:
            rows = conn.execute(self._pending, {"b_abandoned": abandoned, "b_limit": limit * 4})
            waiting: dict[tuple[str, str], int] = {}
            for channel, sender in rows:
                waiting[(channel, sender)] = waiting.get((channel, sender), 0) + 1
        return [(channel, sender, n) for (channel, sender), n in waiting.items()][:limit]

    def urgent_senders(self, limit: int = 100) -> list[tuple[str, str]]:
        """People with waiting messages that hold crisis words (flagged ``urgent`` when they
        were recorded), oldest first; inline channels as in ``pending_senders``."""
        abandoned = self.clock() - INLINE_GRACE
        with read_only(self.db) as conn:
            rows = conn.execute(self._urgent, {"b_abandoned": abandoned, "b_limit": limit})
            return list(dict.fromkeys((channel, sender) for channel, sender in rows))

    def process_pending(self, limit: int = 100) -> list[StepOutcome]:
        outcomes: list[StepOutcome] = []
        for channel, sender, waiting in self.pending_senders(limit):
            outcomes.extend(self.process_sender(channel, sender, waiting))
        return outcomes

    def process_sender(
        self, channel: str, sender_hash: str, limit: int | None = None
    ) -> list[StepOutcome]:
        """Run the pending messages of one person, oldest first, one transaction each: all of
        them, or the first ``limit`` (later ones wait for the next round)."""
        outcomes: list[StepOutcome] = []
        while limit is None or len(outcomes) < limit:
            outcome = self._process_next(channel, sender_hash)
            if outcome is None:
                break
            outcomes.append(outcome)
        return outcomes

    def _process_next(self, channel: str, sender_hash: str) -> StepOutcome | None:
        for _attempt in range(MAX_ATTEMPTS):
            inbound_id: int | None = None
            try:
                with Session(self.db, expire_on_commit=False) as session:
                    conn = session.connection()
                    self._lock_sender(conn, sender_hash)
                    pending = self.store.next_pending(conn, channel, sender_hash)
                    if pending is None:
                        return None
                    inbound_id = pending.id
                    outcome = self._step(session, conn, pending)
                    session.commit()
                    if outcome.released:
                        count_released(channel, outcome.released)
                        log.info(
                            "held messages released: the person wrote again",
                            extra={"participant_id": outcome.participant_id},
                        )
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

    def _lock_sender(self, conn: Connection, sender_hash: str) -> None:
        """Serialise steps for one person across processes (SQLite: BEGIN IMMEDIATE)."""
        if self._postgres:
            key = int(sender_hash[:15], 16)  # 60 bits: fits a bigint
            conn.execute(_ADVISORY_LOCK, {"key": key})

    # --- the step ---------------------------------------------------------------------------

    def _step(self, session: Session, conn: Connection, pending: PendingMessage) -> StepOutcome:
        now = self.clock()
        hooks = self.hooks
        if hooks is not None and hooks.is_staff(
            pending.channel, pending.sender_hash, pending.payload
        ):
            # A message from on-call staff is not a conversation step (the desk uses the ORM).
            inbound = session.get(InboundMessage, pending.id)
            assert inbound is not None
            return hooks.staff_step(session, inbound, now)
        person = pending.person or self._new_person(conn, pending, now)
        msg = Inbound(
            channel=pending.channel,
            external_id="",  # the engine never needs the identifier
            provider_message_id=pending.provider_message_id,
            received_at=pending.received_at,
            text=pending.text or "",
            payload=pending.payload,
            kind="text" if pending.kind == "text" else "unsupported",
        )
        conv = _load_state(pending.conversation, person)
        # A psychologist is talking with the person: the flow pauses (crisis words still count).
        paused = hooks is not None and hooks.paused_for(conn, person.id)
        was_waiting = conv.state in WAITING_STATES
        if was_waiting and not paused and hooks is not None and hooks.waiting_over(conn, person.id):
            self.flow.end_waiting(conv)
            was_waiting = False
        step = (self.flow.step_paused if paused else self.flow.step)(conv, msg, now)
        # While a psychologist talks with the person, ``relay`` puts the message on the case.
        on_case = paused
        if (
            hooks is not None
            and not paused
            and (was_waiting or conv.state in WAITING_STATES or pending.media_kind is not None)
        ):
            # The psychologist sees on the case what a waiting person writes, and any file
            # from a person with an open case (a psychologist talking with them included);
            # whoever has the case is told of a file.
            on_case = hooks.note_waiting(
                session, person.id, pending.id, pending.kind, now, media=pending.media_kind
            )

        keep_text = conv.state not in NO_CONSENT_STATES or _consented(step.effects)
        # (without consent nothing is kept)
        kept = pending.text if keep_text else None
        self.store.finish_message(
            conn, pending.id, person.id, now, kept, keep_media=keep_text or on_case
        )
        outcome = StepOutcome(inbound_id=pending.id, participant_id=person.id, replies=step.replies)
        # Erasure, or a refusal of consent (which keeps only the refusal): the person goes.
        deleted = any(isinstance(e, (DeleteData, ForgetMessages)) for e in step.effects)
        opted_out = person.opted_out_at
        # Their message opens a new window: messages held while it was closed can go.
        returning = (
            pending.person is not None
            and pending.channel in HOLDING_CHANNELS
            and may_have_held(person.last_inbound_at, now)
        )
        for effect in step.effects:
            self._apply(session, effect, person, now, outcome, kept, conv.language)
        if not deleted:
            person.language = conv.language
            person.last_inbound_at = max(
                person.last_inbound_at or pending.received_at, pending.received_at
            )
            self.store.save_person(conn, person, opt_out_changed=person.opted_out_at != opted_out)
            self.store.save_conversation(
                conn, person.id, pending.conversation, _stored_values(conv, now)
            )
        if returning and not deleted:
            # Before the new replies (lower ids go first): what was held was written earlier.
            released = release_held(conn, person.id, now)
            outcome.outbound_ids += released
            outcome.released = len(released)
        outcome.outbound_ids += enqueue_many(
            conn, self._outbox_rows(person, step.replies, pending.channel, now, detached=deleted)
        )
        if paused and hooks is not None:
            outcome.outbound_ids += hooks.relay(
                session, person.id, pending.id, pending.text, now, media=pending.media_kind
            )
        return outcome

    def _new_person(self, conn: Connection, pending: PendingMessage, now: datetime) -> Person:
        if pending.sender_enc is None:
            raise ValueError("pending inbound message without its sender")
        values = {
            "channel": pending.channel,
            "external_hash": pending.sender_hash,
            "external_enc": pending.sender_enc,
            "pseudonym": new_pseudonym(),
            "language": self.default_language,
            "created_at": now,
        }
        person_id = self.store.new_person(conn, values)
        return Person(
            id=person_id,
            external_hash=pending.sender_hash,
            external_enc=pending.sender_enc,
            language=self.default_language,
            last_inbound_at=None,
            opted_out_at=None,
        )

    # --- effects ------------------------------------------------------------------------------

    def _apply(
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
                self._delete_person(session, pid, keep_refusal=True)
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
                self._delete_person(session, pid)
            case StartWaiting():
                self._start_waiting(session, pid, effect, now)
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

    def _start_waiting(
        self, session: Session, pid: int, effect: StartWaiting, now: datetime
    ) -> None:
        """Durable timers for the check-ins and the "nobody has answered yet" notice; a new
        start replaces the timers of an earlier one."""
        session.execute(
            update(WaitingTimer)
            .where(
                col(WaitingTimer.participant_id) == pid,
                col(WaitingTimer.status) == "pending",
            )
            .values(status="cancelled")
        )
        for minutes in effect.checkins:
            session.add(
                WaitingTimer(
                    participant_id=pid,
                    kind="checkin",
                    due_at=now + timedelta(minutes=minutes),
                    created_at=now,
                )
            )
        session.add(
            WaitingTimer(
                participant_id=pid,
                kind="no_ack",
                due_at=now + timedelta(minutes=effect.expect_minutes),
                created_at=now,
            )
        )

    def _delete_person(self, session: Session, pid: int, *, keep_refusal: bool = False) -> None:
        """Erase a person: profile, identifiers, conversation, consents, screenings, the
        words (and files) of their messages and of their risk signals, and the replies sent to them.
        Inbound ids stay (without text, owner or sender) so a late redelivery is still
        recognised; risk signals stay without their words (rule, priority, time), and so
        does an open case (``StepHooks.person_deleted``). ``keep_refusal``: a refusal of
        consent keeps the refusal itself, attached to nobody."""
        session.flush()
        participant = session.get(Participant, pid)
        if participant is None:
            return
        if self.hooks is not None:  # an open case stays, without the person's words
            self.hooks.person_deleted(session, participant, self.clock())
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

    # --- outbox -------------------------------------------------------------------------------

    def _outbox_rows(
        self,
        person: Person,
        replies: list[Reply],
        channel: str,
        now: datetime,
        *,
        detached: bool,
    ) -> list[dict[str, Any]]:
        inline = channel in self.inline_channels
        if detached and inline:
            return []  # the simulator shows the replies; nothing about the person is kept
        # A reply to a person who is gone has no person, and is deleted once sent.
        to = Recipient(
            channel, person.external_hash, person.external_enc, None if detached else person.id
        )
        return [
            outbox_row(
                to,
                reply.text,
                now,
                purpose=Purpose.FAREWELL if detached else reply.purpose,
                choices=reply.choices,
                shown=inline,
            )
            for reply in replies
        ]


def _load_state(stored: StoredConversation | None, person: Person) -> ConvState:
    opted_out = person.opted_out_at is not None
    if stored is None:
        return ConvState(language=person.language, opted_out=opted_out)
    return ConvState(
        state=State(stored.state),
        language=stored.language,
        instrument_id=stored.instrument_id,
        item_id=stored.item_id,
        answers=dict(stored.answers),
        plan=list(stored.plan),
        context=dict(stored.context),
        last_activity_at=stored.last_activity_at,
        opted_out=opted_out,
    )


def _stored_values(conv: ConvState, now: datetime) -> dict[str, Any]:
    return {
        "state": conv.state.value,
        "language": conv.language,
        "instrument_id": conv.instrument_id,
        "item_id": conv.item_id,
        "answers": dict(conv.answers),
        "plan": list(conv.plan),
        "context": dict(conv.context),
        "last_activity_at": conv.last_activity_at or now,
    }


def _consented(effects: list[Effect]) -> bool:
    return any(isinstance(e, RecordConsent) and e.given for e in effects)
