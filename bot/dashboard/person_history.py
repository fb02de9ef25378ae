"""What the case page shows of a person's past: their other cases and their scores."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.dashboard.charts import Series
from bot.dashboard.people import ScreeningView
from bot.dashboard.web import local_time
from bot.escalation.models import Case

MAX_CASES = 20


@dataclass(frozen=True)
class PastCase:
    id: int
    opened_at: datetime
    priority: str
    status: str
    outcome: str | None


def other_cases(db: Engine, participant_id: int, case_id: int) -> list[PastCase]:
    """The person's other cases, newest first."""
    with Session(db) as session:
        rows = session.exec(
            select(Case)
            .where(Case.participant_id == participant_id, Case.id != case_id)
            .order_by(col(Case.opened_at).desc())
            .limit(MAX_CASES)
        ).all()
    return [PastCase(c.id or 0, c.opened_at, c.priority, c.status, c.outcome) for c in rows]


def score_series(screenings: list[ScreeningView]) -> list[Series]:
    """Totals over time per instrument (screenings with a total only), oldest first."""
    by_instrument: dict[str, list[ScreeningView]] = {}
    for s in screenings:
        if s.total is not None:
            by_instrument.setdefault(s.instrument_id, []).append(s)
    series = []
    for views in by_instrument.values():
        views.sort(key=lambda v: v.completed_at)
        series.append(
            Series(
                views[0].instrument_name,
                float(max((v.max_total or 0) for v in views)),
                [(local_time(v.completed_at, "%d/%m/%y"), float(v.total or 0)) for v in views],
            )
        )
    return series
