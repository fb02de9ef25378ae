"""dashboard: staff accounts, their sessions, and the access audit log

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.db.models

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ts = bot.db.models.UTCDateTime
_str = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "dashboard_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", _str(length=64), nullable=False),
        sa.Column("password_hash", _str(length=255), nullable=False),
        sa.Column("role", _str(length=16), nullable=False),
        sa.Column("psychologist_id", _str(length=64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", _ts(timezone=True), nullable=True),
        sa.Column("created_at", _ts(timezone=True), nullable=False),
        sa.Column("last_login_at", _ts(timezone=True), nullable=True),
        sa.Column("password_changed_at", _ts(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dashboard_user", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dashboard_user_username"), ["username"], unique=True)

    op.create_table(
        "dashboard_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", _str(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", _str(length=64), nullable=False),
        sa.Column("created_at", _ts(timezone=True), nullable=False),
        sa.Column("last_seen_at", _ts(timezone=True), nullable=False),
        sa.Column("expires_at", _ts(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["dashboard_user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("dashboard_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dashboard_session_user_id"), ["user_id"], unique=False)

    op.create_table(
        "dashboard_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", _ts(timezone=True), nullable=False),
        sa.Column("kind", _str(length=32), nullable=False),
        sa.Column("actor", _str(length=64), nullable=False),
        sa.Column("ip", _str(length=64), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dashboard_event", schema=None) as batch_op:
        batch_op.create_index("ix_dashboard_event_kind_at", ["kind", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("dashboard_event", schema=None) as batch_op:
        batch_op.drop_index("ix_dashboard_event_kind_at")
    op.drop_table("dashboard_event")
    with op.batch_alter_table("dashboard_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dashboard_session_user_id"))
    op.drop_table("dashboard_session")
    with op.batch_alter_table("dashboard_user", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dashboard_user_username"))
    op.drop_table("dashboard_user")
