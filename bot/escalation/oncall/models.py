"""On-call changes and their audit log.

* ``OnCallChange``: one dated change over the roster file: ``cover`` (``psychologist_id``
  takes the place of ``covers`` in every role they hold, or becomes the primary when
  ``covers`` is empty) or ``away`` (``psychologist_id`` holds no role). Undoing one sets
  ``undone_at``; rows are never deleted, so the history stays whole.
* ``OnCallAudit``: who did what and when, with who was on call over the change's window
  before and after it (``bot.escalation.oncall.changes.segments``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from bot.db.models import json_col, ts

KINDS: tuple[str, ...] = ("cover", "away")


class OnCallChange(SQLModel, table=True):
    __tablename__ = "oncall_change"
    __table_args__ = (Index("ix_oncall_change_end", "ends_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=8)
    psychologist_id: str = Field(max_length=64)
    covers: str | None = Field(default=None, max_length=64)
    starts_at: datetime = ts()
    ends_at: datetime = ts()
    note: str = Field(default="", max_length=200)
    created_at: datetime = ts()
    created_by: str = Field(max_length=80)
    undone_at: datetime | None = ts(nullable=True)
    undone_by: str | None = Field(default=None, max_length=80)


class OnCallAudit(SQLModel, table=True):
    __tablename__ = "oncall_audit"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = ts(index=True)
    actor: str = Field(max_length=80)
    action: str = Field(max_length=8)  # add | undo
    change_id: int = Field(foreign_key="oncall_change.id", index=True)
    before: list[dict[str, Any]] = json_col(list)
    after: list[dict[str, Any]] = json_col(list)
