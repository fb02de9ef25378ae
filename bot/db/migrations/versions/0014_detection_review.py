"""detection_review: messages kept for staff to label (the crisis detector's review loop)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.db.models

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "detection_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("created_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("label", sa.Integer(), nullable=True),
        sa.Column("labelled_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("labelled_at", bot.db.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("detection_review", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_detection_review_participant_id"), ["participant_id"], unique=False
        )
        batch_op.create_index(
            "ix_detection_review_label_created", ["label", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("detection_review", schema=None) as batch_op:
        batch_op.drop_index("ix_detection_review_label_created")
        batch_op.drop_index(batch_op.f("ix_detection_review_participant_id"))
    op.drop_table("detection_review")
