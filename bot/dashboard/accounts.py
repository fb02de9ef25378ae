"""Staff accounts: argon2 password hashes, sign-in with throttling, sessions.

Throttling is per (client address, username): after ``FREE_FAILURES`` failed sign-ins from
one address for one username, each further try from there waits longer (``FIRST_DELAY``,
doubling up to ``MAX_DELAY``); a try before its time is refused unchecked (429 with
``Retry-After``). Nothing is a shared block: failures from one address never slow another
address down, so nobody can lock a colleague out by knowing their username. A successful
sign-in from the address, an hour without failures, or an admin's unlock starts afresh.

No web framework here: the routes in :mod:`bot.dashboard.auth` and the CLI call these.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine, delete, func
from sqlmodel import Session, col, select

from bot.accounts.models import ROLES, DashboardUser
from bot.dashboard.models import DashboardEvent, DashboardSession
from bot.db.models import utcnow

#: Failed sign-ins from one address for one username before tries are slowed down…
FREE_FAILURES = 3
#: …then each try waits this long after the last failure, doubling each time…
FIRST_DELAY = timedelta(seconds=2)
#: …up to this.
MAX_DELAY = timedelta(minutes=15)
#: Failures older than this no longer count.
FAILURE_WINDOW = timedelta(hours=1)
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
    THROTTLED = "throttled"


@dataclass(frozen=True)
class SignIn:
    result: LoginResult
    user_id: int | None = None
    token: str | None = None
    #: THROTTLED: seconds until this address may try this username again.
    retry_after: float | None = None


def throttle_delay(failures: int) -> timedelta | None:
    """How long after the last failure the next try must wait, after ``failures`` failures
    from one address for one username (None: no wait)."""
    if failures < FREE_FAILURES:
        return None
    steps = min(failures - FREE_FAILURES, 20)
    factor: int = 2**steps
    return min(FIRST_DELAY * factor, MAX_DELAY)


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
    session: Session,
    kind: str,
    actor: str,
    *,
    ip: str | None = None,
    at: datetime | None = None,
    **detail: Any,
) -> None:
    session.add(
        DashboardEvent(at=at or utcnow(), kind=kind, actor=actor[:64], ip=ip, detail=detail)
    )


class Accounts:
    """Users, passwords and sessions in one database."""

    def __init__(self, db: Engine, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock

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
            if unlock:
                # Failures before now no longer slow anyone down (``sign_in``).
                user.locked_until = None
                user.failed_logins = 0
                user.unlocked_at = self.clock()
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
                    delete(DashboardSession).where(col(DashboardSession.user_id) == user.id)
                )
            record_event(session, "user_updated", actor, username=user.username, **changes)
            session.commit()
            return user

    # --- sign-in ----------------------------------------------------------------------------

    def unlock(self, username: str, *, actor: str = "cli") -> DashboardUser:
        """Let every address try ``username`` again at once (the CLI's ``unlock-user``)."""
        with Session(self.db) as session:
            user = session.exec(
                select(DashboardUser).where(DashboardUser.username == normalise_username(username))
            ).first()
        if user is None or user.id is None:
            raise AccountError("user_not_found")
        return self.update_user(user.id, actor=actor, unlock=True)

    def sign_in(self, username: str, password: str, ip: str | None) -> SignIn:
        """Check a password, unless this address failed too often for this username lately
        (then THROTTLED, unchecked, with how long to wait)."""
        name = normalise_username(username)[:64]
        now = self.clock()
        with Session(self.db, expire_on_commit=False) as session:
            user = session.exec(
                select(DashboardUser).where(DashboardUser.username == name).with_for_update()
            ).first()
            since = now - FAILURE_WINDOW
            if user is not None and user.unlocked_at is not None:
                since = max(since, user.unlocked_at)
            failures, last = self._failures(session, name or "-", ip, since)
            delay = throttle_delay(failures)
            if delay is not None and last is not None and last + delay > now:
                record_event(session, "login_throttled", name or "-", ip=ip, at=now)
                session.commit()
                wait = (last + delay - now).total_seconds()
                return SignIn(LoginResult.THROTTLED, retry_after=wait)
            if user is None or not user.active:
                _verify(_DUMMY_HASH, password)
                record_event(session, "login_failed", name or "-", ip=ip, at=now, reason="unknown")
                session.commit()
                return SignIn(LoginResult.INVALID)
            if not _verify(user.password_hash, password):
                # Shown to admins (users page): how many failures, slowed down until when.
                user.failed_logins += 1
                slowed = throttle_delay(failures + 1)
                if slowed is not None:
                    user.locked_until = now + slowed
                session.add(user)
                record_event(
                    session,
                    "login_failed",
                    name,
                    ip=ip,
                    at=now,
                    reason="password",
                    failures=failures + 1,
                )
                session.commit()
                return SignIn(LoginResult.INVALID)
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
            record_event(session, "login", name, ip=ip, at=now)
            session.commit()
            return SignIn(LoginResult.OK, user_id=user.id, token=token)

    def _failures(
        self, session: Session, name: str, ip: str | None, since: datetime
    ) -> tuple[int, datetime | None]:
        """Failed sign-ins for ``name`` from ``ip`` since ``since`` and since the last
        successful one from there: how many, and the last one's time."""
        same = (
            col(DashboardEvent.actor) == name,
            col(DashboardEvent.ip).is_(None) if ip is None else col(DashboardEvent.ip) == ip,
        )
        last_ok = session.exec(
            select(func.max(DashboardEvent.at)).where(DashboardEvent.kind == "login", *same)
        ).one()
        if last_ok is not None:
            since = max(since, _aware(last_ok))
        count, last = session.exec(
            select(func.count(), func.max(DashboardEvent.at)).where(
                DashboardEvent.kind == "login_failed", DashboardEvent.at > since, *same
            )
        ).one()
        return int(count), _aware(last) if last is not None else None

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


def _aware(value: datetime) -> datetime:
    """Aggregates skip the column type: SQLite gives back a naive (UTC) datetime."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def csrf_matches(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())
