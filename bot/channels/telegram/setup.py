"""``python -m bot set-webhook``: register ``PUBLIC_BASE_URL/webhooks/telegram`` with Telegram.

The webhook is registered with the secret token Telegram must send back
(``TELEGRAM_WEBHOOK_SECRET``) and only the update types the bot uses. The Bot API is reached
at ``TELEGRAM_API_BASE_URL`` (tests point it at a fake on 127.0.0.1).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from typing import Any

from bot.settings import Settings

WEBHOOK_PATH = "/webhooks/telegram"
ALLOWED_UPDATES = ("message", "edited_message", "callback_query")
#: What Telegram accepts as ``secret_token``: 1-256 of A-Z a-z 0-9 _ -
SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def add_set_webhook_command(commands: Any) -> None:
    """Add the ``set-webhook`` sub-command to ``python -m bot``'s argument parser."""
    parser = commands.add_parser(
        "set-webhook", help="register this service's Telegram webhook (PUBLIC_BASE_URL)"
    )
    parser.add_argument(
        "--drop-pending-updates",
        action="store_true",
        help="discard the updates Telegram is still holding for the bot",
    )
    parser.add_argument(
        "--max-connections",
        type=int,
        default=40,
        choices=range(1, 101),
        metavar="1-100",
        help="simultaneous webhook connections Telegram may open (default 40)",
    )


def webhook_url(settings: Settings) -> str:
    return settings.public_base_url.rstrip("/") + WEBHOOK_PATH


def check_settings(settings: Settings) -> list[str]:
    """What is missing or wrong for registering the webhook (empty when all is well)."""
    problems: list[str] = []
    if settings.telegram_bot_token is None:
        problems.append("TELEGRAM_BOT_TOKEN is not set")
    secret = settings.telegram_webhook_secret
    if secret is None:
        problems.append("TELEGRAM_WEBHOOK_SECRET is not set")
    elif not SECRET_PATTERN.match(secret.get_secret_value()):
        problems.append("TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z a-z 0-9 _ -")
    return problems


def set_webhook(settings: Settings, args: argparse.Namespace) -> int:
    problems = check_settings(settings)
    if problems:
        for problem in problems:
            print(f"set-webhook: {problem}", file=sys.stderr)
        return 2
    url = webhook_url(settings)
    if not url.startswith("https://"):
        print(f"warning: Telegram only calls https:// webhooks; {url} is not one", file=sys.stderr)
    return asyncio.run(_register(settings, url, args.drop_pending_updates, args.max_connections))


async def _register(settings: Settings, url: str, drop_pending: bool, max_connections: int) -> int:
    from telegram import Bot
    from telegram.error import InvalidToken, TelegramError

    assert settings.telegram_bot_token is not None
    assert settings.telegram_webhook_secret is not None
    token = settings.telegram_bot_token.get_secret_value()
    bot = Bot(token, base_url=settings.telegram_api_base_url)
    try:
        async with bot:
            await bot.set_webhook(
                url=url,
                secret_token=settings.telegram_webhook_secret.get_secret_value(),
                allowed_updates=list(ALLOWED_UPDATES),
                drop_pending_updates=drop_pending,
                max_connections=max_connections,
            )
            info = await bot.get_webhook_info()
            username = bot.username
    except InvalidToken:
        print("set-webhook failed: Telegram refused TELEGRAM_BOT_TOKEN", file=sys.stderr)
        return 1
    except TelegramError as err:
        message = err.message.replace(token, "[token]")
        print(f"set-webhook failed: {message}", file=sys.stderr)
        return 1
    print(f"Telegram webhook set for @{username}: {info.url}")
    print(f"  allowed updates: {', '.join(info.allowed_updates or ALLOWED_UPDATES)}")
    print(f"  updates waiting at Telegram: {info.pending_update_count}")
    if info.last_error_message:
        print(f"  last delivery error reported by Telegram: {info.last_error_message}")
    return 0
