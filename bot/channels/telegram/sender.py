"""Telegram: python-telegram-bot's ``Bot`` at ``TELEGRAM_API_BASE_URL``.

Options become an inline keyboard (one button a row, ``callback_data`` = the choice's
payload, 1–64 bytes; a message with an invalid payload shows numbered options as text
instead). Texts over 4,096 characters are split at line breaks, the keyboard on the last
part. A ``callback_answer`` row (queued by earlier versions) answers a button press
(``answerCallbackQuery``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest

from bot.delivery.ratelimit import TELEGRAM_LIMITS
from bot.delivery.sender import SEND_TIMEOUT, Outgoing, Sender, SendError
from bot.delivery.text import split_text
from bot.logging import scrub
from bot.outbox.enums import Channel, Purpose
from bot.outbox.failures import Failure
from bot.outbox.reply import Choice, Reply, as_text

log = logging.getLogger(__name__)

CHANNEL = Channel.TELEGRAM
MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64
#: Bad requests that mean the chat itself is gone.
_UNREACHABLE = ("chat not found", "peer_id_invalid", "user not found")


@dataclass(frozen=True, slots=True)
class TelegramPart:
    text: str
    keyboard: InlineKeyboardMarkup | None = None
    callback_answer: bool = False


def callback_data_ok(payload: str) -> bool:
    return 1 <= len(payload.encode("utf-8")) <= MAX_CALLBACK_DATA


def keyboard_for(choices: Sequence[Choice]) -> InlineKeyboardMarkup | None:
    """One button a row; None when there are no choices or a payload is not valid
    ``callback_data`` (then the options are shown as numbered text)."""
    if not choices or not all(callback_data_ok(c.payload) for c in choices):
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(c.label or c.key, callback_data=c.payload)] for c in choices]
    )


def plan_message(msg: Outgoing) -> list[TelegramPart]:
    if msg.purpose == Purpose.CALLBACK_ANSWER:
        return [TelegramPart(msg.text, callback_answer=True)]
    keyboard = keyboard_for(msg.choices)
    text = msg.text
    if msg.choices and keyboard is None:
        log.warning(
            "button payload not valid callback_data; options sent as text",
            extra={"outbound_id": msg.id},
        )
        text = as_text(Reply(msg.text, msg.choices))
    parts = split_text(text, MAX_TEXT)
    last = len(parts) - 1
    return [TelegramPart(p, keyboard if i == last else None) for i, p in enumerate(parts)]


class TelegramSender(Sender[TelegramPart]):
    channel = CHANNEL
    limits = TELEGRAM_LIMITS

    def __init__(self, token: str, base_url: str, *, timeout: float = SEND_TIMEOUT) -> None:
        self._request = HTTPXRequest(
            connection_pool_size=64,
            read_timeout=timeout,
            write_timeout=timeout,
            connect_timeout=min(timeout, 3.0),
            pool_timeout=timeout,
        )
        self._updates_request = HTTPXRequest(connection_pool_size=1)
        self.bot = Bot(
            token,
            base_url=base_url,
            request=self._request,
            get_updates_request=self._updates_request,
        )

    def plan(self, msg: Outgoing, now: datetime) -> list[TelegramPart]:
        return plan_message(msg)

    async def send(self, msg: Outgoing, part: TelegramPart) -> str | None:
        try:
            if part.callback_answer:
                await self.bot.answer_callback_query(part.text)
                return None
            sent = await self.bot.send_message(
                chat_id=msg.recipient, text=part.text, reply_markup=part.keyboard
            )
        except TelegramError as exc:
            raise classify(exc) from None
        return f"tg:{msg.id}:{sent.message_id}"

    async def close(self) -> None:
        await self._request.shutdown()
        await self._updates_request.shutdown()


def classify(exc: TelegramError) -> SendError:
    """A Telegram error as a ``SendError`` (descriptions carry no chat ids or text)."""
    detail = scrub(str(exc))[:200]
    if isinstance(exc, RetryAfter):
        wait = exc.retry_after
        seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
        # Telegram does not say whether a 429 is for the chat or the bot; our own per-chat
        # budget keeps chats under their limit, so it is honoured for the whole bot too.
        return SendError(Failure.RETRY, "telegram.429", retry_after=seconds, channel_wide=True)
    if isinstance(exc, Forbidden):
        return SendError(Failure.UNREACHABLE, "telegram.403", detail=detail)
    if isinstance(exc, BadRequest):
        if any(marker in detail.lower() for marker in _UNREACHABLE):
            return SendError(Failure.UNREACHABLE, "telegram.400", detail=detail)
        return SendError(Failure.PERMANENT, "telegram.400", detail=detail)
    if isinstance(exc, ChatMigrated):
        return SendError(Failure.PERMANENT, "telegram.migrated")
    if isinstance(exc, InvalidToken):
        log.error("the Telegram bot token was rejected; check TELEGRAM_BOT_TOKEN")
        return SendError(Failure.RETRY, "telegram.token")
    if isinstance(exc, TimedOut):
        return SendError(Failure.RETRY, "telegram.timeout")
    if isinstance(exc, NetworkError):
        return SendError(Failure.RETRY, "telegram.network", detail=detail)
    return SendError(Failure.RETRY, "telegram.error", detail=detail)
