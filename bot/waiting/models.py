"""Tables for the "waiting for a human" state.

* ``WaitingTimer``: a durable timer for one message to a person who waits for a
  psychologist (a check-in, or the honest notice that nobody has acknowledged yet). It
  survives a restart; with several workers on PostgreSQL each runs once (``FOR UPDATE SKIP
  LOCKED``), and its message and its ``done`` mark commit together.
* ``SafetyPlan``: the brief Stanley-Brown safety plan a person built in the chat, in their own
  words, shown to the psychologist on the case page. Erased with the person.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from bot.db.models import json_col, ts

TIMER_KINDS: tuple[str, ...] = ("checkin", "no_ack")
TIMER_STATUSES: tuple[str, ...] = ("pending", "done", "cancelled")


class WaitingTimer(SQLModel, table=True):
    __tablename__ = "waiting_timer"
    __table_args__ = (Index("ix_waiting_timer_due", "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=16)
    due_at: datetime = ts()
    status: str = Field(default="pending", max_length=16)
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
