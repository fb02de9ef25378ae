"""Held risk signals: the crisis detector's unanswered check question

Revision ID: 0013
Revises: 0007
Create Date: 2026-12-04 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.models

revision: str = "0013"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("risk_signal", schema=None) as batch_op:
        batch_op.add_column(sa.Column("not_before", bot.db.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_at", bot.db.models.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("risk_signal", schema=None) as batch_op:
        batch_op.drop_column("withdrawn_at")
        batch_op.drop_column("not_before")
