"""A refusal of consent is kept attached to nobody (the person is erased); when an admin
last unlocked a dashboard account (earlier failed sign-ins stop counting)

Revision ID: 0010
Revises: 0011
Create Date: 2026-12-04 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.models

revision: str = "0010"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("consent", schema=None) as batch_op:
        batch_op.alter_column("participant_id", existing_type=sa.Integer(), nullable=True)
    with op.batch_alter_table("dashboard_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unlocked_at", bot.db.models.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dashboard_user", schema=None) as batch_op:
        batch_op.drop_column("unlocked_at")
    op.execute("DELETE FROM consent WHERE participant_id IS NULL")
    with op.batch_alter_table("consent", schema=None) as batch_op:
        batch_op.alter_column("participant_id", existing_type=sa.Integer(), nullable=False)
