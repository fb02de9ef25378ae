"""Twilio status callbacks that come before their message's send is recorded

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.models

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "delivery_receipt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_message_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("received_at", bot.db.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("delivery_receipt", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_delivery_receipt_provider_message_id"),
            ["provider_message_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_delivery_receipt_received_at"), ["received_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("delivery_receipt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_receipt_received_at"))
        batch_op.drop_index(batch_op.f("ix_delivery_receipt_provider_message_id"))
    op.drop_table("delivery_receipt")
