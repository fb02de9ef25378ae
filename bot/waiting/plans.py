"""Reading a person's safety plan back (for the dashboard's case page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.db.models import SafetyPlan
from bot.flows.safety_plan import STEPS


@dataclass(frozen=True)
class PlanView:
    created_at: datetime
    #: (step key, the person's words or "") in the plan's order.
    steps: list[tuple[str, str]]


def latest_plan(db: Engine, participant_id: int) -> PlanView | None:
    with Session(db) as session:
        plan = session.exec(
            select(SafetyPlan)
            .where(SafetyPlan.participant_id == participant_id)
            .order_by(col(SafetyPlan.id).desc())
        ).first()
    if plan is None:
        return None
    return PlanView(plan.created_at, [(key, str(plan.steps.get(key) or "")) for key in STEPS])
