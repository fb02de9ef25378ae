"""``python -m bot …``: serve, chat, validate-config, migrate, create-user, unlock-user, export."""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Sequence
from typing import Any

from bot.channels.telegram.setup import add_set_webhook_command, set_webhook
from bot.dashboard import commands as dashboard_commands
from bot.settings import Settings, SettingsError, get_settings

#: How ``serve`` runs uvicorn. ``proxy_headers`` off: uvicorn would believe X-Forwarded-For
#: from loopback; the client address comes from ``TRUSTED_PROXIES`` only
#: (``bot.http.client_address``).
UVICORN_OPTIONS: dict[str, Any] = {"log_config": None, "access_log": False, "proxy_headers": False}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the web service (webhooks, simulator)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)

    chat = commands.add_parser("chat", help="chat with the bot in this terminal")
    chat.add_argument("--as", dest="person", default=None, help="conversation id to resume")

    commands.add_parser("worker", help="run the background loops without the web server")
    commands.add_parser("validate-config", help="check every file in config/")
    commands.add_parser("migrate", help="apply database migrations")
    add_set_webhook_command(commands)
    dashboard_commands.add_commands(commands)

    args = parser.parse_args(argv)
    try:
        settings = get_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    handler = {
        "serve": _serve,
        "chat": _chat,
        "worker": _worker,
        "validate-config": _validate_config,
        "migrate": _migrate,
        "set-webhook": set_webhook,
        "create-user": _create_user,
        "unlock-user": _unlock_user,
        "export": _export,
    }[args.command]
    from sqlalchemy.exc import OperationalError

    try:
        return handler(settings, args)
    except OperationalError as exc:
        # Unreachable, refusing, or wrong credentials: one line, not a traceback.
        print(database_unreachable(settings, exc), file=sys.stderr)
        return 1


def database_unreachable(settings: Settings, exc: BaseException) -> str:
    """One line naming the database (without its password) and the driver's first line."""
    from sqlalchemy.engine import make_url

    where = make_url(settings.database_url).render_as_string(hide_password=True)
    cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    reason = cause[0] if cause else type(exc).__name__
    return f"cannot reach the database at DATABASE_URL={where}: {reason}"


def _ensure_migrated(settings: Settings) -> bool:
    from bot.db.migrate import is_current, upgrade

    if is_current(settings.database_url):
        return True
    if settings.is_sqlite:
        upgrade(settings.database_url)
        return True
    print(
        "The database is not at the newest migration: run `python -m bot migrate`.", file=sys.stderr
    )
    return False


def _oncall_ok(settings: Settings) -> bool:
    """The on-call file and staff texts are valid (else: file, field and reason, and False).
    A service that could not page anyone must not start as if it could."""
    from bot.escalation.context import check_setup

    error = check_setup(settings).error
    if error:
        print(f"config error: {error}", file=sys.stderr)
        print("not starting: fix the on-call file (python -m bot validate-config)", file=sys.stderr)
    return error is None


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from bot.content import ContentError
    from bot.web.app import create_app

    if not _oncall_ok(settings) or not _ensure_migrated(settings):
        return 1
    try:
        app = create_app(settings)
    except ContentError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 1
    base = f"http://{args.host}:{args.port}"
    print(f"\n  Screening bot running on {base}\n  Chat with it: {base}/simulator\n", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, **UVICORN_OPTIONS)
    return 0


def _chat(settings: Settings, args: argparse.Namespace) -> int:
    from bot.db.models import utcnow
    from bot.flows import Inbound
    from bot.logging import configure_logging
    from bot.outbox.enums import Channel
    from bot.outbox.reply import as_text
    from bot.runtime import build_runtime

    configure_logging("ERROR")
    if not _ensure_migrated(settings):
        return 1
    runtime = build_runtime(settings)
    person = args.person or f"terminal-{uuid.uuid4().hex[:12]}"
    print(f"Chatting as {person!r} (Ctrl-D to leave). Say hola / hi.\n")
    try:
        while True:
            try:
                text = input("you> ")
            except EOFError:
                print()
                return 0
            outcome = runtime.conversations.handle(
                Inbound(
                    channel=Channel.SIM,
                    external_id=person,
                    provider_message_id=uuid.uuid4().hex,
                    received_at=utcnow(),
                    text=text,
                )
            )
            for reply in outcome.replies:
                print("\nbot> " + as_text(reply).replace("\n", "\n     ") + "\n")
    except KeyboardInterrupt:
        print()
        return 0
    finally:
        runtime.close()


def _worker(settings: Settings, _args: argparse.Namespace) -> int:
    import asyncio
    import signal

    from bot.channels.registry import build_senders
    from bot.logging import configure_logging
    from bot.runtime import build_runtime
    from bot.worker import build_workers

    configure_logging(settings.log_level)
    if not _oncall_ok(settings) or not _ensure_migrated(settings):
        return 1

    async def run() -> None:
        runtime = build_runtime(settings)
        workers = build_workers(runtime, build_senders)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        workers.start()
        print(f"worker running: {', '.join(workers.loops)} (Ctrl-C to stop)", flush=True)
        await stop.wait()
        await workers.stop()
        runtime.close()

    asyncio.run(run())
    return 0


def _validate_config(settings: Settings, _args: argparse.Namespace) -> int:
    from bot.content import ContentError, load_content
    from bot.escalation.crisis import cached_detector
    from bot.escalation.detection import ConceptError, LexiconError, ModelError

    try:
        content = load_content(settings.config_dir)
    except ContentError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 1
    try:
        cached_detector(settings.config_dir / "crisis")
    except (LexiconError, ConceptError, ModelError) as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 1
    from bot.escalation.context import check_setup  # the on-call roster (ONCALL_FILE)

    oncall = check_setup(settings)
    if oncall.error:
        print(f"config error: {oncall.error}", file=sys.stderr)
        return 1
    for warning in [*content.warnings, *oncall.warnings]:
        print(f"warning: {warning}")
    names = ", ".join(sorted(content.instruments))
    print(
        f"config OK: {len(content.instruments)} instruments ({names}), "
        f"languages {', '.join(sorted(content.catalogs))}"
    )
    print(oncall.summary)
    print("\nPriority table (config/priorities.yaml), most urgent first:")
    for line in content.priorities.describe():
        print(f"  {line}")
    return 0


def _migrate(settings: Settings, _args: argparse.Namespace) -> int:
    from bot.db.migrate import upgrade

    upgrade(settings.database_url)
    print("database migrated to the newest version")
    return 0


def _create_user(settings: Settings, args: argparse.Namespace) -> int:
    if not _ensure_migrated(settings):
        return 1
    return dashboard_commands.create_user(settings, args)


def _unlock_user(settings: Settings, args: argparse.Namespace) -> int:
    if not _ensure_migrated(settings):
        return 1
    return dashboard_commands.unlock_user(settings, args)


def _export(settings: Settings, args: argparse.Namespace) -> int:
    if not _ensure_migrated(settings):
        return 1
    return dashboard_commands.export(settings, args)
