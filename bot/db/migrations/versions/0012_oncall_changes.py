"""On-call changes made at run time (dashboard, Telegram) and their audit log

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-04 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.models

revision: str = "0012"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oncall_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("psychologist_id", sa.String(length=64), nullable=False),
        sa.Column("covers", sa.String(length=64), nullable=True),
        sa.Column("starts_at", bot.db.models.UTCDateTime(), nullable=False),
        sa.Column("ends_at", bot.db.models.UTCDateTime(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_at", bot.db.models.UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("undone_at", bot.db.models.UTCDateTime(), nullable=True),
        sa.Column("undone_by", sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("oncall_change", schema=None) as batch_op:
        batch_op.create_index("ix_oncall_change_end", ["ends_at"], unique=False)
    op.create_table(
        "oncall_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", bot.db.models.UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["change_id"], ["oncall_change.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("oncall_audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oncall_audit_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_oncall_audit_change_id"), ["change_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("oncall_audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oncall_audit_change_id"))
        batch_op.drop_index(batch_op.f("ix_oncall_audit_at"))
    op.drop_table("oncall_audit")
    with op.batch_alter_table("oncall_change", schema=None) as batch_op:
        batch_op.drop_index("ix_oncall_change_end")
    op.drop_table("oncall_change")
