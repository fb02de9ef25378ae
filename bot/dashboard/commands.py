"""``python -m bot create-user``, ``unlock-user`` and ``export`` (wired in :mod:`bot.cli`)."""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from bot.accounts.models import ROLES
from bot.settings import Settings


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    user = commands.add_parser("create-user", help="create a dashboard account")
    user.add_argument("--username", required=True)
    user.add_argument("--role", choices=ROLES, default="psychologist")
    user.add_argument("--psychologist-id", default=None, help="the id in the on-call roster")
    user.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    unlock = commands.add_parser(
        "unlock-user",
        help="let a dashboard account sign in again at once from every address "
        "(earlier failed sign-ins stop counting)",
    )
    unlock.add_argument("--username", required=True)
    export = commands.add_parser("export", help="export completed screenings (CSV or FHIR R4)")
    export.add_argument("--format", choices=("csv", "fhir"), required=True)
    export.add_argument("--since", required=True, help="first day, YYYY-MM-DD (Lima time)")
    export.add_argument("--until", default=None, help="last day included, YYYY-MM-DD")
    export.add_argument("--output", default=None, help="file to write (default: stdout)")


def _read_password(from_stdin: bool) -> str | None:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    second = getpass.getpass("Repeat the password: ")
    if first != second:
        print("the passwords differ", file=sys.stderr)
        return None
    return first


def create_user(settings: Settings, args: argparse.Namespace) -> int:
    from bot.dashboard.accounts import AccountError, Accounts
    from bot.db.engine import make_engine, timeouts_of

    password = _read_password(args.password_stdin)
    if password is None:
        return 1
    engine = make_engine(settings.database_url, timeouts=timeouts_of(settings))
    try:
        user = Accounts(engine).create_user(
            args.username, password, args.role, psychologist_id=args.psychologist_id
        )
    except AccountError as exc:
        print(f"cannot create the user: {exc.code.replace('_', ' ')}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(f"created {user.role} {user.username!r}; sign in at /dashboard")
    return 0


def unlock_user(settings: Settings, args: argparse.Namespace) -> int:
    from bot.dashboard.accounts import AccountError, Accounts
    from bot.db.engine import make_engine

    engine = make_engine(settings.database_url)
    try:
        user = Accounts(engine).unlock(args.username, actor="cli")
    except AccountError as exc:
        print(f"cannot unlock the user: {exc.code.replace('_', ' ')}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(f"unlocked {user.username!r}: failed sign-ins before now no longer slow it down")
    return 0


def _day_start(text: str) -> datetime:
    from bot.dashboard.web import LIMA

    return datetime.combine(date.fromisoformat(text), time(0), LIMA).astimezone(UTC)


def export(settings: Settings, args: argparse.Namespace) -> int:
    from bot.content import load_content
    from bot.dashboard import export as exporter
    from bot.db.engine import make_engine, timeouts_of
    from bot.db.models import utcnow

    try:
        since = _day_start(args.since)
        until = _day_start(args.until) + timedelta(days=1) if args.until else None
    except ValueError:
        print("--since and --until take dates as YYYY-MM-DD", file=sys.stderr)
        return 2
    content = load_content(settings.config_dir)
    engine = make_engine(settings.database_url, timeouts=timeouts_of(settings))
    try:
        data = exporter.rows(engine, since, until)
        if args.format == "csv":
            body = exporter.to_csv(content, data)
        else:
            body = exporter.to_fhir_json(content, data, utcnow())
        exporter.audit(engine, "cli", args.format, args.since, args.until or "")
    finally:
        engine.dispose()
    if args.output:
        Path(args.output).write_text(body, encoding="utf-8")
    else:
        sys.stdout.write(body)
    return 0
