"""Escalation tables: cases, their audit log, durable timer steps and alert deliveries.

* ``Case``: one per episode of risk for a person. At most ONE case per person is open
  (status other than ``resolved``): a partial unique index enforces it on SQLite and
  PostgreSQL. A person who deletes their data keeps their open case (participant NULL,
  ``person_deleted_at`` set, reason kept) so that no alert vanishes silently.
* ``CaseEvent``: the append-only audit log of everything that happens to a case.
* ``EscalationStep``: a durable timer for one step of the chain; the escalation loop runs a
  due step under row locks (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) so each runs once.
* ``CaseNotification``: one alert sent to one psychologist on one channel, linked to its
  outbox row, so a failed delivery falls back to the next channel.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Index, Integer, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from bot.db.models import json_col, ts

#: Most urgent first.
PRIORITIES: tuple[str, ...] = ("imminent", "high", "moderate", "routine")
PRIORITY_RANK: dict[str, int] = {p: i for i, p in enumerate(PRIORITIES)}


class CaseStatus(StrEnum):
    """Where a case is (``case.status``)."""

    #: Nobody has acknowledged it: the chain pages.
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    #: A psychologist is talking with the person through the bot.
    IN_CONVERSATION = "in_conversation"
    RESOLVED = "resolved"


class StepStatus(StrEnum):
    """An escalation step's (``escalation_step.status``)."""

    PENDING = "pending"
    DONE = "done"
    #: The case was acknowledged or resolved before the step's time.
    CANCELLED = "cancelled"


class NotificationStatus(StrEnum):
    """One alert's (``case_notification.status``): queued → sent | failed."""

    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


STATUSES: tuple[str, ...] = tuple(CaseStatus)
OPEN_STATUSES: tuple[str, ...] = tuple(s for s in CaseStatus if s != CaseStatus.RESOLVED)
OUTCOMES: tuple[str, ...] = (
    "contacted",
    "referred_csmc",
    "emergency_services",
    "unreachable",
    "false_alarm",
)
EVENT_KINDS: tuple[str, ...] = (
    "created",
    "signal_added",
    "priority_raised",
    "notified",
    "delivered",
    "notify_failed",
    "acknowledged",
    "escalated",
    "message_to_person",
    "message_from_person",
    "resolved",
    "viewed",
    "revealed",
    "person_deleted_data",
    "overdue_step",
    "refused",
    "safety_plan",
    "waiting_message",
    "chain_ended",
    "note_added",
    "transferred",
    "media_noted",
    "media_viewed",
)

_OPEN_ONLY = text("status <> 'resolved'")
_case_version = Column("version", Integer, nullable=False)


def more_urgent(a: str, b: str) -> bool:
    """True when priority ``a`` is more urgent than ``b``."""
    return PRIORITY_RANK.get(a, len(PRIORITIES)) < PRIORITY_RANK.get(b, len(PRIORITIES))


class Case(SQLModel, table=True):
    __tablename__ = "escalation_case"
    __table_args__ = (
        Index(
            "uq_case_open_participant",
            "participant_id",
            unique=True,
            sqlite_where=_OPEN_ONLY,
            postgresql_where=_OPEN_ONLY,
        ),
        Index("ix_case_status_opened", "status", "opened_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int | None = Field(
        default=None, foreign_key="participant.id", index=True, ondelete="SET NULL"
    )
    #: The person's channel (kept when the person deletes their data).
    channel: str = Field(default="", max_length=16)
    priority: str = Field(max_length=16)
    status: str = Field(default=CaseStatus.OPEN, max_length=16)
    opened_at: datetime = ts()
    last_signal_at: datetime = ts()
    acknowledged_at: datetime | None = ts(nullable=True)
    acknowledged_by: str | None = Field(default=None, max_length=64)
    #: The psychologist writing to the person while the case is ``in_conversation``.
    conversation_with: str | None = Field(default=None, max_length=64)
    resolved_at: datetime | None = ts(nullable=True)
    resolved_by: str | None = Field(default=None, max_length=64)
    outcome: str | None = Field(default=None, max_length=32)
    note: str | None = None
    #: Rule and item, or the quoted message that matched (free text).
    reason: str
    #: ``quote`` (free text that matched), ``signals`` [...], ``screenings`` [...].
    snapshot: dict[str, Any] = json_col()
    #: The escalation chain as it was when the case started (see ``roster.Chain``).
    chain: dict[str, Any] = json_col()
    next_step_at: datetime | None = ts(nullable=True, index=True)
    person_deleted_at: datetime | None = ts(nullable=True)
    version: int = Field(default=1, sa_column=_case_version)

    __mapper_args__ = {"version_id_col": _case_version}

    @property
    def is_open(self) -> bool:
        return self.status != CaseStatus.RESOLVED


class CaseEvent(SQLModel, table=True):
    """Audit log. ``actor``: a roster psychologist id, ``dashboard:<user>``, ``system``."""

    __tablename__ = "case_event"
    __table_args__ = (Index("ix_case_event_case_at", "case_id", "at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="escalation_case.id", ondelete="CASCADE")
    at: datetime = ts()
    kind: str = Field(max_length=32)
    actor: str | None = Field(default=None, max_length=64)
    detail: dict[str, Any] = json_col()


class EscalationStep(SQLModel, table=True):
    """A timer: run chain step ``position`` of the case's chain at ``due_at``.

    ``step_index`` counts the steps of a case (0, 1, 2… across repeats; unique per case, so
    a step is never scheduled twice). A worker runs a step in one transaction that holds the
    case row (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) and the step row: its alerts, its
    ``done`` mark and the next step commit together, or not at all and it runs again.
    """

    __tablename__ = "escalation_step"
    __table_args__ = (
        UniqueConstraint("case_id", "step_index"),
        Index("ix_escalation_step_due", "status", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="escalation_case.id", index=True, ondelete="CASCADE")
    step_index: int
    position: int = 0
    due_at: datetime = ts()
    status: str = Field(default=StepStatus.PENDING, max_length=16)
    created_at: datetime = ts()
    ran_at: datetime | None = ts(nullable=True)
    ran_by: str | None = Field(default=None, max_length=64)
    #: When the auditor reported this step as overdue (reported once).
    overdue_at: datetime | None = ts(nullable=True)


class CaseNotification(SQLModel, table=True):
    """One alert to one psychologist on one channel. ``status``: queued → sent | failed;
    a failed alert is retried on the psychologist's next channel (``fallback_id``)."""

    __tablename__ = "case_notification"
    __table_args__ = (Index("ix_case_notification_status", "status", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="escalation_case.id", index=True, ondelete="CASCADE")
    step_index: int
    psychologist_id: str = Field(max_length=64)
    channel: str = Field(max_length=16)
    outbound_id: int | None = Field(
        default=None, foreign_key="outbound_message.id", index=True, ondelete="SET NULL"
    )
    status: str = Field(default=NotificationStatus.QUEUED, max_length=16)
    fallback_id: int | None = None
    created_at: datetime = ts()
    settled_at: datetime | None = ts(nullable=True)
