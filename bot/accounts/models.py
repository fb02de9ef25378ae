"""The staff accounts' table (``DashboardUser``) and their roles.

Below both of its readers: the dashboard (sign-in, user management, casework) and the
on-call desk on Telegram (which account belongs to a psychologist of the roster).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from bot.db.models import ts

#: Least to most rights: a supervisor also changes who is on call (``/dashboard/oncall``).
ROLES: tuple[str, ...] = ("psychologist", "supervisor", "admin")


class DashboardUser(SQLModel, table=True):
    __tablename__ = "dashboard_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    password_hash: str = Field(max_length=255)
    role: str = Field(default="psychologist", max_length=16)
    #: The psychologist's id in the on-call roster (``config/oncall.yaml``), when they are one.
    psychologist_id: str | None = Field(default=None, max_length=64)
    active: bool = True
    #: Failed sign-ins lately, and until when the last address that failed is slowed down
    #: (shown to admins; throttling itself is per address and username:
    #: ``bot.dashboard.accounts``).
    failed_logins: int = 0
    locked_until: datetime | None = ts(nullable=True)
    #: When an admin last unlocked the account: earlier failures no longer count.
    unlocked_at: datetime | None = ts(nullable=True)
    created_at: datetime = ts()
    last_login_at: datetime | None = ts(nullable=True)
    password_changed_at: datetime = ts()

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_supervisor(self) -> bool:
        """Supervisors and admins may change who is on call."""
        return self.role in ("supervisor", "admin")
