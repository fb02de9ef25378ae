"""The alerts of a case as the dashboard shows them: which failed, which are still pending.

A failed alert is one that did not reach the psychologist on a channel (its fallback on
the next channel is a new alert); a step that found nobody to page counts as failed too.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.escalation.models import CaseEvent, CaseNotification

PENDING = frozenset({"queued"})
DELIVERED = frozenset({"sent"})


@dataclass(frozen=True)
class Alert:
    psychologist: str
    channel: str
    status: str
    at: datetime


@dataclass
class AlertState:
    failed: list[Alert] = field(default_factory=list)
    pending: list[Alert] = field(default_factory=list)
    delivered: int = 0
    #: Steps that found nobody to page (no roster, nobody on it, no usable contact).
    nobody: int = 0

    @property
    def mark(self) -> str | None:
        """``failed`` (nothing delivered and something failed), ``pending``, or None."""
        if (self.failed or self.nobody) and not self.delivered and not self.pending:
            return "failed"
        if self.pending and not self.delivered:
            return "pending"
        return None


def states(db: Engine, case_ids: Collection[int]) -> dict[int, AlertState]:
    """Every case's alerts (one query each for alerts and for 'nobody to page' events)."""
    found: dict[int, AlertState] = {i: AlertState() for i in case_ids}
    if not found:
        return found
    with Session(db) as session:
        rows = session.exec(
            select(CaseNotification)
            .where(col(CaseNotification.case_id).in_(found))
            .order_by(col(CaseNotification.id))
        ).all()
        nobody = session.exec(
            select(CaseEvent).where(
                col(CaseEvent.case_id).in_(found), CaseEvent.kind == "notify_failed"
            )
        ).all()
    for row in rows:
        state = found[row.case_id]
        alert = Alert(
            row.psychologist_id, row.channel, row.status, row.settled_at or row.created_at
        )
        if row.status in DELIVERED:
            state.delivered += 1
        elif row.status in PENDING:
            state.pending.append(alert)
        else:
            state.failed.append(alert)
    for event in nobody:
        detail = event.detail if isinstance(event.detail, dict) else {}
        if "notification" not in detail and "channel" not in detail:
            found[event.case_id].nobody += 1
    return found
