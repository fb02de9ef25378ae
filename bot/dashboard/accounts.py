"""Staff accounts: argon2 password hashes, sign-in with throttling and lockout, sessions.

No web framework here: the routes in :mod:`bot.dashboard.auth` and the CLI call these.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine, delete, func
from sqlmodel import Session, select

from bot.dashboard.models import ROLES, DashboardEvent, DashboardSession, DashboardUser
from bot.db.models import utcnow

#: A failed sign-in this many times in a row locks the account for ``LOCKOUT``.
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
#: Failed sign-ins from one address within ``IP_WINDOW`` above which it is refused.
IP_MAX_FAILURES = 20
IP_WINDOW = timedelta(minutes=15)
#: A session ends after this long without a request the person made (polls do not count)…
IDLE_TIMEOUT = timedelta(minutes=30)
#: …and at the latest this long after sign-in.
ABSOLUTE_TIMEOUT = timedelta(hours=12)
MIN_PASSWORD_LENGTH = 12
USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,63}$"

_hasher = PasswordHasher()
# Verified against when the username is unknown, so both cases take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A user could not be created or changed; ``code`` names the reason (a message key)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class LoginResult(StrEnum):
    OK = "ok"
    INVALID = "invalid"
    LOCKED = "locked"
    THROTTLED = "throttled"


@dataclass(frozen=True)
class SignIn:
    result: LoginResult
    user_id: int | None = None
    token: str | None = None


@dataclass(frozen=True)
class ActiveSession:
    session_id: int
    user: DashboardUser
    csrf_token: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_username(username: str) -> str:
    return username.strip().lower()


def check_password_policy(password: str, username: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError("password_too_short")
    if len(password) > 1024:
        raise AccountError("password_too_long")
    if normalise_username(username) in password.lower():
        raise AccountError("password_contains_username")


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def record_event(
    session: Session, kind: str, actor: str, *, ip: str | None = None, **detail: Any
) -> None:
    session.add(DashboardEvent(at=utcnow(), kind=kind, actor=actor[:64], ip=ip, detail=detail))


class Accounts:
    """Users, passwords and sessions in one database."""

    def __init__(self, db: Engine) -> None:
        self.db = db

    # --- users ------------------------------------------------------------------------------

    def create_user(
        self,
        username: str,
        password: str,
        role: str,
        *,
        psychologist_id: str | None = None,
        actor: str = "cli",
    ) -> DashboardUser:
        name = normalise_username(username)
        if not re.match(USERNAME_PATTERN, name):
            raise AccountError("username_invalid")
        if role not in ROLES:
            raise AccountError("role_invalid")
        check_password_policy(password, name)
        with Session(self.db, expire_on_commit=False) as session:
            exists = session.exec(select(DashboardUser).where(DashboardUser.username == name))
            if exists.first() is not None:
                raise AccountError("username_taken")
            user = DashboardUser(
                username=name,
                password_hash=_hasher.hash(password),
                role=role,
                psychologist_id=psychologist_id or None,
            )
            session.add(user)
            record_event(session, "user_created", actor, username=name, role=role)
            session.commit()
            return user

    def users(self) -> list[DashboardUser]:
        with Session(self.db, expire_on_commit=False) as session:
            return list(session.exec(select(DashboardUser).order_by(DashboardUser.username)))

    def get(self, user_id: int) -> DashboardUser | None:
        with Session(self.db, expire_on_commit=False) as session:
            return session.get(DashboardUser, user_id)

    def update_user(
        self,
        user_id: int,
        *,
        actor: str,
        role: str | None = None,
        psychologist_id: str | None = None,
        active: bool | None = None,
        unlock: bool = False,
        password: str | None = None,
    ) -> DashboardUser:
        """Change a user; deactivating, a new role or a new password ends their sessions."""
        with Session(self.db, expire_on_commit=False) as session:
            user = session.get(DashboardUser, user_id)
            if user is None:
                raise AccountError("user_not_found")
            changes: dict[str, Any] = {}
            if role is not None and role != user.role:
                if role not in ROLES:
                    raise AccountError("role_invalid")
                user.role = role
                changes["role"] = role
            if psychologist_id is not None and (psychologist_id or None) != user.psychologist_id:
                user.psychologist_id = psychologist_id or None
                changes["psychologist_id"] = user.psychologist_id
            if active is not None and active != user.active:
                user.active = active
                changes["active"] = active
            if unlock and (user.locked_until is not None or user.failed_logins):
                user.locked_until = None
                user.failed_logins = 0
                changes["unlocked"] = True
            if password is not None:
                check_password_policy(password, user.username)
                user.password_hash = _hasher.hash(password)
                user.password_changed_at = utcnow()
                changes["password"] = "changed"
            if not changes:
                return user
            session.add(user)
            if {"role", "active", "password"} & set(changes):
                session.execute(
                    delete(DashboardSession).where(DashboardSession.user_id == user.id)  # type: ignore[arg-type]
                )
            record_event(session, "user_updated", actor, username=user.username, **changes)
            session.commit()
            return user

    # --- sign-in ----------------------------------------------------------------------------

    def sign_in(self, username: str, password: str, ip: str | None) -> SignIn:
        """Check a password. Locked accounts stay locked whatever the password; an address
        with many recent failures is refused before any password is checked."""
        name = normalise_username(username)[:64]
        now = utcnow()
        with Session(self.db, expire_on_commit=False) as session:
            if ip is not None and self._ip_failures(session, ip, now) >= IP_MAX_FAILURES:
                record_event(session, "login_throttled", name or "-", ip=ip)
                session.commit()
                return SignIn(LoginResult.THROTTLED)
            user = session.exec(
                select(DashboardUser).where(DashboardUser.username == name).with_for_update()
            ).first()
            if user is None or not user.active:
                _verify(_DUMMY_HASH, password)
                record_event(session, "login_failed", name or "-", ip=ip, reason="unknown")
                session.commit()
                return SignIn(LoginResult.INVALID)
            if user.locked_until is not None and user.locked_until > now:
                _verify(_DUMMY_HASH, password)
                record_event(session, "login_failed", name, ip=ip, reason="locked")
                session.commit()
                return SignIn(LoginResult.LOCKED)
            if not _verify(user.password_hash, password):
                user.failed_logins += 1
                locked = user.failed_logins >= MAX_FAILED_LOGINS
                if locked:
                    user.locked_until = now + LOCKOUT
                    user.failed_logins = 0
                session.add(user)
                record_event(session, "login_failed", name, ip=ip, reason="password", locked=locked)
                session.commit()
                return SignIn(LoginResult.LOCKED if locked else LoginResult.INVALID)
            if _hasher.check_needs_rehash(user.password_hash):
                user.password_hash = _hasher.hash(password)
            user.failed_logins = 0
            user.locked_until = None
            user.last_login_at = now
            session.add(user)
            token = secrets.token_urlsafe(32)
            session.add(
                DashboardSession(
                    token_hash=hash_token(token),
                    user_id=user.id or 0,
                    csrf_token=secrets.token_urlsafe(32),
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + ABSOLUTE_TIMEOUT,
                )
            )
            record_event(session, "login", name, ip=ip)
            session.commit()
            return SignIn(LoginResult.OK, user_id=user.id, token=token)

    def _ip_failures(self, session: Session, ip: str, now: datetime) -> int:
        count = session.exec(
            select(func.count())
            .select_from(DashboardEvent)
            .where(
                DashboardEvent.kind == "login_failed",
                DashboardEvent.ip == ip,
                DashboardEvent.at >= now - IP_WINDOW,
            )
        ).one()
        return int(count)

    # --- sessions ---------------------------------------------------------------------------

    def session_for(self, token: str, *, touch: bool) -> ActiveSession | None:
        """The live session a cookie token belongs to, or None (unknown, idle or expired).
        ``touch`` counts the request as the person's activity (polls pass False)."""
        if not token or len(token) > 128:
            return None
        now = utcnow()
        with Session(self.db, expire_on_commit=False) as session:
            row = session.exec(
                select(DashboardSession).where(DashboardSession.token_hash == hash_token(token))
            ).first()
            if row is None:
                return None
            user = session.get(DashboardUser, row.user_id)
            expired = row.expires_at <= now or row.last_seen_at + IDLE_TIMEOUT <= now
            if user is None or not user.active or expired:
                session.delete(row)
                session.commit()
                return None
            if touch and now - row.last_seen_at > timedelta(seconds=15):
                row.last_seen_at = now
                session.add(row)
                session.commit()
            return ActiveSession(row.id or 0, user, row.csrf_token)

    def end_session(self, session_id: int, actor: str, ip: str | None) -> None:
        with Session(self.db) as session:
            row = session.get(DashboardSession, session_id)
            if row is not None:
                session.delete(row)
            record_event(session, "logout", actor, ip=ip)
            session.commit()


def csrf_matches(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())
