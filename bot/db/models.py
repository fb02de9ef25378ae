"""Tables. Every change here needs an Alembic migration in ``bot/db/migrations/versions``.

Personal identifiers are never stored in clear: ``Participant.external_hash`` finds a person,
``external_enc`` (encrypted) is read back only to deliver a message.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, Integer, TypeDecorator, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC; always returns timezone-aware UTC datetimes (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: use timezone-aware UTC datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def ts(nullable: bool = False, index: bool = False) -> Any:
    column: Column[datetime] = Column(UTCDateTime(), nullable=nullable, index=index)
    if nullable:
        return Field(default=None, sa_column=column)
    return Field(default_factory=utcnow, sa_column=column)


def json_col(factory: Any = dict) -> Any:
    return Field(default_factory=factory, sa_column=Column(JSON, nullable=False))


class Participant(SQLModel, table=True):
    __tablename__ = "participant"
    __table_args__ = (UniqueConstraint("channel", "external_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    external_hash: str = Field(max_length=64)
    external_enc: str
    pseudonym: str = Field(max_length=16, index=True)
    language: str = Field(default="es", max_length=5)
    created_at: datetime = ts()
    last_inbound_at: datetime | None = ts(nullable=True)
    opted_out_at: datetime | None = ts(nullable=True)
    unreachable_at: datetime | None = ts(nullable=True)


class Consent(SQLModel, table=True):
    __tablename__ = "consent"

    id: int | None = Field(default=None, primary_key=True)
    #: NULL for a refusal: the person is erased and only the refusal is kept.
    participant_id: int | None = Field(
        default=None, foreign_key="participant.id", index=True, ondelete="CASCADE"
    )
    given: bool
    text_version: str = Field(max_length=32)
    language: str = Field(max_length=5)
    recorded_at: datetime = ts()


_conversation_version = Column("version", Integer, nullable=False)


class Conversation(SQLModel, table=True):
    """One per participant: where they are in the flow. ``version`` guards concurrent steps."""

    __tablename__ = "conversation"

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(
        foreign_key="participant.id", unique=True, index=True, ondelete="CASCADE"
    )
    state: str = Field(max_length=32)
    language: str = Field(max_length=5)
    instrument_id: str | None = Field(default=None, max_length=32)
    item_id: str | None = Field(default=None, max_length=32)
    answers: dict[str, str] = json_col()
    plan: list[str] = json_col(list)
    context: dict[str, Any] = json_col()
    last_activity_at: datetime = ts()
    version: int = Field(default=1, sa_column=_conversation_version)

    __mapper_args__ = {"version_id_col": _conversation_version}


class InboxStatus(StrEnum):
    """Where an inbound message is (``inbound_message.status``)."""

    #: Recorded, its step not yet run (or run and rolled back: it runs again).
    PENDING = "pending"
    #: Its step committed.
    DONE = "done"
    #: Its step failed ``bot.flows.inbox.MAX_STEP_FAILURES`` times: set aside (its crisis
    #: words still raised a signal).
    FAILED = "failed"


class InboundMessage(SQLModel, table=True):
    """The inbox: every message received, recorded before the platform gets its 2xx.

    The (channel, provider id) pair is unique, so a redelivery is recognised and dropped.
    A conversation step marks its message ``done`` in the step's own transaction; a message
    still ``pending`` after a crash is processed after restart. The sender's identifier is
    kept encrypted only until the message is processed.
    """

    __tablename__ = "inbound_message"
    __table_args__ = (
        UniqueConstraint("channel", "provider_message_id"),
        Index("ix_inbound_sender_status", "channel", "sender_hash", "status"),
        Index("ix_inbound_status", "status", "id"),
        # The crisis lane's queue: pending messages with crisis words, oldest first.
        Index("ix_inbound_urgent", "urgent", "status", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    provider_message_id: str = Field(max_length=64)
    sender_hash: str = Field(max_length=64)
    sender_enc: str | None = None
    participant_id: int | None = Field(
        default=None, foreign_key="participant.id", index=True, ondelete="SET NULL"
    )
    kind: str = Field(max_length=16)
    text: str | None = None
    payload: str | None = Field(default=None, max_length=256)
    #: An attachment (``bot.flows.types.Media``): its kind, its MIME type as the platform
    #: gave it, and the platform's reference (file id or media URL), encrypted; the reference
    #: is dropped with the text when nothing of the message is kept.
    media_kind: str | None = Field(default=None, max_length=16)
    media_type: str | None = Field(default=None, max_length=100)
    media_ref_enc: str | None = None
    #: Crisis words were found in the text when it was recorded: the crisis lane runs the
    #: person's steps ahead of the inbox queue (``bot.escalation.fastlane``).
    urgent: bool = False
    status: str = Field(default=InboxStatus.PENDING, max_length=16)
    attempts: int = 0
    error: str | None = None
    received_at: datetime = ts()
    processed_at: datetime | None = ts(nullable=True)


class OutboundMessage(SQLModel, table=True):
    """The outbox: written in the same transaction as the step that produced it, then sent
    in order per recipient by the dispatcher."""

    __tablename__ = "outbound_message"
    __table_args__ = (Index("ix_outbound_pending", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int | None = Field(
        default=None, foreign_key="participant.id", index=True, ondelete="SET NULL"
    )
    channel: str = Field(max_length=16)
    recipient_hash: str = Field(max_length=64, index=True)
    recipient_enc: str | None = None
    purpose: str = Field(default="reply", max_length=32)
    text: str
    choices: list[dict[str, str]] = json_col(list)
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = ts()
    provider_message_id: str | None = Field(default=None, max_length=64, unique=True)
    error: str | None = None
    created_at: datetime = ts()
    sent_at: datetime | None = ts(nullable=True)


class DeliveryReceipt(SQLModel, table=True):
    """A Twilio status callback whose message is not (yet) known by its provider id: it came
    before the dispatcher recorded the send, and is applied when it does
    (``bot.channels.twilio.receipts``), or it is about an earlier part of a split message and is
    removed after a day. No personal data: an id, a status and an error code."""

    __tablename__ = "delivery_receipt"

    id: int | None = Field(default=None, primary_key=True)
    provider_message_id: str = Field(max_length=64, index=True)
    status: str = Field(max_length=16)
    error_code: int | None = None
    received_at: datetime = ts(index=True)


class Screening(SQLModel, table=True):
    """A completed instrument."""

    __tablename__ = "screening"

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", index=True, ondelete="CASCADE")
    instrument_id: str = Field(max_length=32, index=True)
    instrument_version: str = Field(max_length=32)
    language: str = Field(max_length=5)
    answers: dict[str, str] = json_col()
    total: int | None = None
    max_total: int | None = None
    band: str | None = Field(default=None, max_length=32)
    result: str | None = Field(default=None, max_length=32)
    positive: bool = False
    flags: list[dict[str, Any]] = json_col(list)
    started_at: datetime = ts()
    completed_at: datetime = ts(index=True)


class RiskSignal(SQLModel, table=True):
    """A durable record of anything that needs a human: a risk rule that fired, crisis words
    in free text, or a request to talk to a psychologist. Written in the same transaction as
    the step that raised it; escalation picks up the unprocessed ones."""

    __tablename__ = "risk_signal"

    id: int | None = Field(default=None, primary_key=True)
    # SET NULL, not CASCADE: a person deleting their data must not silently drop an alert.
    participant_id: int | None = Field(
        default=None, foreign_key="participant.id", index=True, ondelete="SET NULL"
    )
    source: str = Field(max_length=16)
    rule_id: str = Field(max_length=64)
    priority: str = Field(max_length=16)
    reason: str
    detail: dict[str, Any] = json_col()
    created_at: datetime = ts()
    processed_at: datetime | None = ts(nullable=True, index=True)
    #: A held signal (the unanswered check question) is acted on only from this time...
    not_before: datetime | None = ts(nullable=True)
    #: ...unless withdrawn first (the question was answered "no"); then never.
    withdrawn_at: datetime | None = ts(nullable=True)


# --- the waiting state (bot.waiting) -------------------------------------------------------
# ``WaitingTimer``: a durable timer for one message to a person who waits for a psychologist
# (a check-in, or the honest notice that nobody has acknowledged yet). It survives a restart;
# with several workers on PostgreSQL each runs once (``FOR UPDATE SKIP LOCKED``), and its
# message and its ``done`` mark commit together. ``SafetyPlan``: the brief Stanley-Brown
# safety plan a person built in the chat, in their own words, shown to the psychologist on
# the case page. Both are written by a conversation step and erased with the person.


class TimerKind(StrEnum):
    CHECKIN = "checkin"
    #: The honest notice that nobody has acknowledged yet.
    NO_ACK = "no_ack"


class TimerStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    #: Replaced by a later start of the waiting state, or no longer due (the person left it).
    CANCELLED = "cancelled"


class WaitingTimer(SQLModel, table=True):
    __tablename__ = "waiting_timer"
    __table_args__ = (Index("ix_waiting_timer_due", "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=16)
    due_at: datetime = ts()
    status: str = Field(default=TimerStatus.PENDING, max_length=16)
    created_at: datetime = ts()
    ran_at: datetime | None = ts(nullable=True)


class SafetyPlan(SQLModel, table=True):
    __tablename__ = "safety_plan"

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", index=True, ondelete="CASCADE")
    #: ``{"warning_signs": "…", "coping": "…", …}`` in the person's words.
    steps: dict[str, Any] = json_col()
    language: str = Field(default="es", max_length=8)
    created_at: datetime = ts()


# --- messages kept for review (bot.escalation.review) ------------------------------------
# ``text`` is the message as typed, kept only when the person had consented (the step's
# ``keep_text``); rows are deleted when the person deletes their data or refuses consent.
# ``label``: 1 risk, 0 no risk, None not yet labelled.


class DetectionReview(SQLModel, table=True):
    __tablename__ = "detection_review"
    __table_args__ = (Index("ix_detection_review_label_created", "label", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int | None = Field(
        default=None, foreign_key="participant.id", index=True, ondelete="SET NULL"
    )
    #: ``unsure`` or ``unrecognised`` (``bot.flows.types.NoteForReview.kind``).
    kind: str = Field(max_length=16)
    text: str | None = None
    language: str = Field(default="es", max_length=5)
    #: The detector's guess: its most likely kind of risk, and its score.
    category: str | None = Field(default=None, max_length=32)
    score: float | None = None
    created_at: datetime = ts()
    label: int | None = None
    labelled_by: str | None = Field(default=None, max_length=64)
    labelled_at: datetime | None = ts(nullable=True)
