"""Waiting for a human: durable check-in timers and the person's safety plan

Revision ID: 0008
Revises: 0012
Create Date: 2026-12-04 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.db.models

revision: str = "0008"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "waiting_timer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("due_at", bot.db.models.UTCDateTime(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", bot.db.models.UTCDateTime(), nullable=False),
        sa.Column("ran_at", bot.db.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("waiting_timer", schema=None) as batch_op:
        batch_op.create_index("ix_waiting_timer_due", ["status", "due_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_waiting_timer_participant_id"), ["participant_id"], unique=False
        )
    op.create_table(
        "safety_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("created_at", bot.db.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("safety_plan", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_safety_plan_participant_id"), ["participant_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("safety_plan", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_safety_plan_participant_id"))
    op.drop_table("safety_plan")
    with op.batch_alter_table("waiting_timer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_waiting_timer_participant_id"))
        batch_op.drop_index("ix_waiting_timer_due")
    op.drop_table("waiting_timer")
