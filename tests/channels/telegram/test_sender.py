"""The Telegram sender: python-telegram-bot's Bot against the fake Bot API on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram.error import NetworkError

from bot.channels.telegram.sender import (
    MAX_TEXT,
    TelegramSender,
    callback_data_ok,
    plan_message,
)
from bot.delivery.sender import Outgoing, SendError
from bot.delivery.text import units
from bot.outbox.enums import Purpose
from bot.outbox.failures import Failure
from bot.outbox.reply import Choice
from tests.delivery.support import START
from tests.fakes import fixtures
from tests.fakes.loopback import LoopbackGuard
from tests.fakes.telegram_api import FakeTelegramApi

telegram_api = fixtures.telegram_api
loopback_only = fixtures.loopback_only

CHAT = "424242"
CHOICES = (
    Choice("1", "Nunca", "ans:phq9_1:0"),
    Choice("2", "Varios días", "ans:phq9_1:1"),
)


def message(text: str, choices: tuple[Choice, ...] = (), purpose: str = "reply") -> Outgoing:
    return Outgoing(
        id=7,
        channel="telegram",
        recipient=CHAT,
        purpose=purpose,
        text=text,
        choices=choices,
        created_at=START,
        window_from=START,
    )


@pytest.fixture
async def sender(
    telegram_api: FakeTelegramApi, loopback_only: LoopbackGuard
) -> AsyncIterator[TelegramSender]:
    sender = TelegramSender(telegram_api.token, telegram_api.base_url)
    yield sender
    await sender.close()


async def send_all(sender: TelegramSender, msg: Outgoing) -> list[str | None]:
    return [await sender.send(msg, part) for part in sender.plan(msg, START)]


async def test_a_question_goes_with_an_inline_keyboard(
    sender: TelegramSender, telegram_api: FakeTelegramApi
) -> None:
    ids = await send_all(sender, message("¿Poco interés?", CHOICES))

    call = telegram_api.wait_for("sendMessage")
    assert call.params["chat_id"] == int(CHAT)
    assert call.params["text"] == "¿Poco interés?"
    keyboard = call.params["reply_markup"]["inline_keyboard"]
    assert [[b["text"] for b in row] for row in keyboard] == [["Nunca"], ["Varios días"]]
    assert [row[0]["callback_data"] for row in keyboard] == ["ans:phq9_1:0", "ans:phq9_1:1"]
    assert ids == [f"tg:7:{next(iter(telegram_api.sent_messages))[1]}"]


async def test_a_long_message_is_split_under_4096_with_the_keyboard_on_the_last_part(
    sender: TelegramSender, telegram_api: FakeTelegramApi
) -> None:
    paragraphs = [f"Recurso {n}: " + "información útil " * 30 for n in range(40)]
    text = "\n\n".join(paragraphs)
    assert len(text) > 2 * MAX_TEXT

    await send_all(sender, message(text, CHOICES))

    calls = telegram_api.calls("sendMessage")
    assert len(calls) >= 3
    assert all(c.status == 200 for c in calls)
    assert all(units(c.params["text"]) <= MAX_TEXT for c in calls)
    assert [("reply_markup" in c.params) for c in calls] == [False] * (len(calls) - 1) + [True]
    joined = "\n\n".join(c.params["text"] for c in calls)
    assert joined.split() == text.split()
    for call in calls:  # every cut is at a paragraph boundary
        assert call.params["text"].startswith("Recurso ")


def test_callback_data_is_at_most_64_bytes() -> None:
    assert callback_data_ok("x" * 64)
    assert not callback_data_ok("x" * 65)
    assert callback_data_ok("ñ" * 32)  # 64 bytes
    assert not callback_data_ok("ñ" * 33)  # 33 characters, 66 bytes
    assert not callback_data_ok("")


async def test_a_payload_over_64_bytes_falls_back_to_numbered_options(
    sender: TelegramSender, telegram_api: FakeTelegramApi
) -> None:
    choices = (Choice("1", "Sí", "consent:yes"), Choice("2", "No", "ñ" * 33))
    [part] = plan_message(message("¿Aceptas?", choices))
    assert part.keyboard is None

    await send_all(sender, message("¿Aceptas?", choices))

    call = telegram_api.wait_for("sendMessage")
    assert call.status == 200
    assert call.params["text"] == "¿Aceptas?\n\n1. Sí\n2. No"
    assert "reply_markup" not in call.params


async def test_a_button_press_is_answered(
    sender: TelegramSender, telegram_api: FakeTelegramApi
) -> None:
    ids = await send_all(sender, message("cbq-123", purpose=Purpose.CALLBACK_ANSWER))

    call = telegram_api.wait_for("answerCallbackQuery")
    assert call.params["callback_query_id"] == "cbq-123"
    assert ids == [None]
    assert telegram_api.calls("sendMessage") == []


async def _failure(sender: TelegramSender) -> SendError:
    msg = message("hola")
    with pytest.raises(SendError) as info:
        await sender.send(msg, sender.plan(msg, START)[0])
    return info.value


async def test_errors_are_classified(sender: TelegramSender, telegram_api: FakeTelegramApi) -> None:
    telegram_api.rate_limit("sendMessage", retry_after=7)
    err = await _failure(sender)
    assert (err.failure, err.code, err.retry_after, err.channel_wide) == (
        Failure.RETRY,
        "telegram.429",
        7.0,
        True,
    )

    telegram_api.block(CHAT, times=1)
    err = await _failure(sender)
    assert (err.failure, err.code) == (Failure.UNREACHABLE, "telegram.403")
    assert "blocked" in err.error

    telegram_api.fail_next("sendMessage", 400, description="Bad Request: chat not found")
    assert (await _failure(sender)).failure is Failure.UNREACHABLE

    telegram_api.fail_next("sendMessage", 400, description="Bad Request: can't parse entities")
    assert (await _failure(sender)).failure is Failure.PERMANENT

    telegram_api.fail_next("sendMessage", 500)
    err = await _failure(sender)
    assert (err.failure, err.code) == (Failure.RETRY, "telegram.network")
    assert CHAT not in err.error


async def test_a_rejected_token_is_retried_not_dropped(
    telegram_api: FakeTelegramApi, loopback_only: LoopbackGuard
) -> None:
    sender = TelegramSender("999:wrong-token", telegram_api.base_url)
    try:
        err = await _failure(sender)
    finally:
        await sender.close()
    assert (err.failure, err.code) == (Failure.RETRY, "telegram.token")


async def test_close_releases_the_http_clients(telegram_api: FakeTelegramApi) -> None:
    sender = TelegramSender(telegram_api.token, telegram_api.base_url)
    await sender.close()
    with pytest.raises(NetworkError, match="not initialized"):
        await sender.bot.send_message(chat_id=CHAT, text="after close")
