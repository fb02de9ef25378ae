"""Dashboard tables: the staff accounts' sessions, the audit of access events, case notes.

The accounts themselves (``DashboardUser``) are in :mod:`bot.accounts.models`.

Case events (viewed, revealed, acknowledged…) go to the escalation audit log
(``CaseEvent``); ``DashboardEvent`` records what is not about one case: logins, failed
logins, logouts, user management and exports. It is also what login throttling counts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from bot.db.models import json_col, ts


class DashboardSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored, so
    a copy of the database cannot be used to sign in."""

    __tablename__ = "dashboard_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="dashboard_user.id", index=True, ondelete="CASCADE")
    csrf_token: str = Field(max_length=64)
    created_at: datetime = ts()
    last_seen_at: datetime = ts()
    expires_at: datetime = ts()


class DashboardEvent(SQLModel, table=True):
    """Audit of access: ``login``, ``login_failed``, ``logout``, ``user_*``, ``export``…"""

    __tablename__ = "dashboard_event"
    __table_args__ = (Index("ix_dashboard_event_kind_at", "kind", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = ts()
    kind: str = Field(max_length=32)
    actor: str = Field(max_length=64)
    ip: str | None = Field(default=None, max_length=64)
    detail: dict[str, Any] = json_col()


class CaseNote(SQLModel, table=True):
    """An internal note on a case, for the team only: never sent to the person. Kept with
    the case (like the resolution note) when the person deletes their data."""

    __tablename__ = "case_note"
    __table_args__ = (Index("ix_case_note_case_at", "case_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="escalation_case.id", ondelete="CASCADE")
    at: datetime = ts()
    author: str = Field(max_length=64)
    text: str
