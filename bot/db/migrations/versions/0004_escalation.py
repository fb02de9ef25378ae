"""escalation: cases, their audit log, escalation steps and alert deliveries

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-22 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.db.models

revision: str = "0004"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "escalation_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("priority", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("opened_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_signal_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", bot.db.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("conversation_with", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("resolved_at", bot.db.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("chain", sa.JSON(), nullable=False),
        sa.Column("next_step_at", bot.db.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("person_deleted_at", bot.db.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("escalation_case", schema=None) as batch_op:
        batch_op.create_index("ix_case_status_opened", ["status", "opened_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_escalation_case_next_step_at"), ["next_step_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_escalation_case_participant_id"), ["participant_id"], unique=False
        )
        batch_op.create_index(
            "uq_case_open_participant",
            ["participant_id"],
            unique=True,
            sqlite_where=sa.text("status <> 'resolved'"),
            postgresql_where=sa.text("status <> 'resolved'"),
        )

    op.create_table(
        "case_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["escalation_case.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.create_index("ix_case_event_case_at", ["case_id", "at", "id"], unique=False)

    op.create_table(
        "case_notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("step_index", sa.Integer(), nullable=False),
        sa.Column("psychologist_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("outbound_id", sa.Integer(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("fallback_id", sa.Integer(), nullable=True),
        sa.Column("created_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("settled_at", bot.db.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["escalation_case.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["outbound_id"], ["outbound_message.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("case_notification", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_notification_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_case_notification_outbound_id"), ["outbound_id"], unique=False
        )
        batch_op.create_index("ix_case_notification_status", ["status", "id"], unique=False)

    op.create_table(
        "escalation_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("step_index", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("due_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ran_at", bot.db.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ran_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("overdue_at", bot.db.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["escalation_case.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "step_index"),
    )
    with op.batch_alter_table("escalation_step", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_escalation_step_case_id"), ["case_id"], unique=False)
        batch_op.create_index("ix_escalation_step_due", ["status", "due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("escalation_step", schema=None) as batch_op:
        batch_op.drop_index("ix_escalation_step_due")
        batch_op.drop_index(batch_op.f("ix_escalation_step_case_id"))

    op.drop_table("escalation_step")
    with op.batch_alter_table("case_notification", schema=None) as batch_op:
        batch_op.drop_index("ix_case_notification_status")
        batch_op.drop_index(batch_op.f("ix_case_notification_outbound_id"))
        batch_op.drop_index(batch_op.f("ix_case_notification_case_id"))

    op.drop_table("case_notification")
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.drop_index("ix_case_event_case_at")

    op.drop_table("case_event")
    with op.batch_alter_table("escalation_case", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_case_open_participant",
            sqlite_where=sa.text("status <> 'resolved'"),
            postgresql_where=sa.text("status <> 'resolved'"),
        )
        batch_op.drop_index(batch_op.f("ix_escalation_case_participant_id"))
        batch_op.drop_index(batch_op.f("ix_escalation_case_next_step_at"))
        batch_op.drop_index("ix_case_status_opened")

    op.drop_table("escalation_case")
