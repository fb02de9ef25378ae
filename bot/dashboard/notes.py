"""Internal notes on a case: written and read on the dashboard only, never sent to the
person. Adding one is written to the case's history (who and when, not the text)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.dashboard.models import CaseNote
from bot.escalation import notify
from bot.escalation.context import Escalation
from bot.escalation.models import Case

MAX_NOTE = 2000


@dataclass(frozen=True)
class Note:
    at: datetime
    author: str
    text: str


def add(db: Engine, esc: Escalation, case_id: int, author: str, text: str) -> bool:
    """False when there is no such case (or nothing to write)."""
    body = text.strip()[:MAX_NOTE]
    if not body:
        return False
    with Session(db) as session:
        if session.get(Case, case_id) is None:
            return False
        now = esc.clock()
        session.add(CaseNote(case_id=case_id, at=now, author=author, text=body))
        notify.event(session, case_id, "note_added", now, author)
        session.commit()
    return True


def of_case(db: Engine, case_id: int) -> list[Note]:
    """Oldest first."""
    with Session(db) as session:
        rows = session.exec(
            select(CaseNote)
            .where(CaseNote.case_id == case_id)
            .order_by(col(CaseNote.at), col(CaseNote.id))
        ).all()
    return [Note(r.at, r.author, r.text) for r in rows]
