"""The table of messages kept for review.

``text`` is the message as typed, kept only when the person had consented (the step's
``keep_text``); rows are deleted when the person deletes their data or refuses consent.
``label``: 1 risk, 0 no risk, None not yet labelled.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from bot.db.models import ts

KINDS: tuple[str, ...] = ("unsure", "unrecognised")


class DetectionReview(SQLModel, table=True):
    __tablename__ = "detection_review"
    __table_args__ = (Index("ix_detection_review_label_created", "label", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int | None = Field(
        default=None, foreign_key="participant.id", index=True, ondelete="SET NULL"
    )
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
