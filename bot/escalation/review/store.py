"""Reading and labelling the messages kept for review."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.db.models import DetectionReview, Participant

LABELS: tuple[int, ...] = (1, 0)
#: Unlabelled items shown at once, newest first; and labelled ones below them.
PENDING_LIMIT = 200
LABELLED_LIMIT = 50


@dataclass(frozen=True, slots=True)
class Item:
    """A row as a reviewer sees it: the person by pseudonym only (never an identifier)."""

    id: int
    pseudonym: str | None
    created_at: datetime
    kind: str
    text: str | None
    language: str
    category: str | None
    score: float | None
    label: int | None
    labelled_by: str | None
    labelled_at: datetime | None


def _items(db: Engine, *, labelled: bool, limit: int) -> list[Item]:
    query = (
        select(DetectionReview, Participant.pseudonym)
        .join(Participant, isouter=True)
        .where(
            col(DetectionReview.label).is_not(None)
            if labelled
            else col(DetectionReview.label).is_(None)
        )
        .order_by(
            col(DetectionReview.labelled_at if labelled else DetectionReview.created_at).desc(),
            col(DetectionReview.id).desc(),
        )
        .limit(limit)
    )
    with Session(db) as session:
        return [
            Item(
                id=row.id or 0,
                pseudonym=pseudonym,
                created_at=row.created_at,
                kind=row.kind,
                text=row.text,
                language=row.language,
                category=row.category,
                score=row.score,
                label=row.label,
                labelled_by=row.labelled_by,
                labelled_at=row.labelled_at,
            )
            for row, pseudonym in session.exec(query)
        ]


def pending(db: Engine, limit: int = PENDING_LIMIT) -> list[Item]:
    """Unlabelled items, newest first."""
    return _items(db, labelled=False, limit=limit)


def recently_labelled(db: Engine, limit: int = LABELLED_LIMIT) -> list[Item]:
    """The last labelled items, most recently labelled first."""
    return _items(db, labelled=True, limit=limit)


class NotFound(LookupError):
    """No review item with that id (or it was erased with its person's data)."""


def set_label(
    session: Session, review_id: int, label: int, actor: str, now: datetime
) -> int | None:
    """Label an item (relabelling allowed); returns the label it had before."""
    if label not in LABELS:
        raise ValueError(f"label must be 1 or 0, not {label!r}")
    row = session.get(DetectionReview, review_id)
    if row is None:
        raise NotFound(review_id)
    before = row.label
    row.label = label
    row.labelled_by = actor[:64]
    row.labelled_at = now
    session.add(row)
    return before


def labelled_since(db: Engine, since: datetime | None = None) -> list[DetectionReview]:
    """Every labelled item with its text (labelled at or after ``since``), oldest first."""
    query = select(DetectionReview).where(
        col(DetectionReview.label).is_not(None), col(DetectionReview.text).is_not(None)
    )
    if since is not None:
        query = query.where(col(DetectionReview.labelled_at) >= since)
    with Session(db) as session:
        return list(session.exec(query.order_by(col(DetectionReview.id))))
