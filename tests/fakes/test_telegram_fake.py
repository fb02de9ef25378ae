"""The real python-telegram-bot ``Bot`` against the fake Bot API."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut

from tests.fakes import fixtures
from tests.fakes.loopback import LoopbackGuard
from tests.fakes.telegram_api import FakeTelegramApi

# Fixtures from tests.fakes.fixtures (assigned, so pytest registers them in this module).
loopback_only = fixtures.loopback_only
telegram_api = fixtures.telegram_api

KEYBOARD = InlineKeyboardMarkup(
    [
        [InlineKeyboardButton("Nunca", callback_data="phq9:q1:0")],
        [InlineKeyboardButton("Varios días", callback_data="phq9:q1:1")],
    ]
)


@pytest.fixture
async def bot(telegram_api: FakeTelegramApi) -> AsyncIterator[Bot]:
    async with Bot(telegram_api.token, base_url=telegram_api.base_url) as bot:
        yield bot


async def test_initialize_calls_get_me(
    loopback_only: LoopbackGuard, bot: Bot, telegram_api: FakeTelegramApi
) -> None:
    await bot.send_message(chat_id=1, text="hola")
    assert loopback_only.attempts
    assert loopback_only.blocked == []
    assert bot.username == "screening_test_bot"
    assert bot.id == 123456789
    assert telegram_api.calls()[0].method == "getMe"
    assert telegram_api.calls()[0].path == f"/bot{telegram_api.token}/getMe"


async def test_send_message_with_inline_keyboard(bot: Bot, telegram_api: FakeTelegramApi) -> None:
    first = await bot.send_message(chat_id=4242, text="¿Poco interés?", reply_markup=KEYBOARD)
    second = await bot.send_message(chat_id=4242, text="Siguiente")

    assert second.message_id > first.message_id
    assert first.chat.id == 4242
    assert first.text == "¿Poco interés?"
    assert first.reply_markup == KEYBOARD
    call = telegram_api.wait_for("sendMessage", lambda c: c.params["text"] == "¿Poco interés?")
    # PTB posts application/x-www-form-urlencoded; non-string values are JSON strings.
    assert call.content_type == "application/x-www-form-urlencoded"
    assert call.raw["chat_id"] == "4242"
    assert isinstance(call.raw["reply_markup"], str)
    assert call.params["chat_id"] == 4242
    buttons = [row[0]["callback_data"] for row in call.params["reply_markup"]["inline_keyboard"]]
    assert buttons == ["phq9:q1:0", "phq9:q1:1"]


async def test_rate_limit_raises_retry_after(
    bot: Bot, telegram_api: FakeTelegramApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without PTB_TIMEDELTA, PTB 22 warns (PTBDeprecationWarning) when building RetryAfter.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    telegram_api.rate_limit("sendMessage", retry_after=7, chat_id=1)

    assert (await bot.send_message(chat_id=2, text="other chat")).text == "other chat"
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(chat_id=1, text="hola")
    assert info.value.retry_after == dtm.timedelta(seconds=7)
    assert (await bot.send_message(chat_id=1, text="hola")).text == "hola"
    assert [c.status for c in telegram_api.calls("sendMessage")] == [200, 429, 200]


async def test_blocked_user_raises_forbidden(bot: Bot, telegram_api: FakeTelegramApi) -> None:
    telegram_api.block(99)
    for _ in range(2):
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(chat_id=99, text="hola")


async def test_server_error_and_delay(bot: Bot, telegram_api: FakeTelegramApi) -> None:
    telegram_api.fail_next("sendMessage", 500)
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await bot.send_message(chat_id=5, text="x")

    telegram_api.delay_next("sendMessage", 1.0)
    with pytest.raises(TimedOut):
        await bot.send_message(chat_id=5, text="slow", read_timeout=0.2)
    await telegram_api.wait_for_async("sendMessage", lambda c: c.params["text"] == "slow")


async def test_answer_callback_query_recorded(bot: Bot, telegram_api: FakeTelegramApi) -> None:
    assert await bot.answer_callback_query("cbq-1", text="Anotado")
    call = telegram_api.wait_for("answerCallbackQuery")
    assert call.params == {"callback_query_id": "cbq-1", "text": "Anotado"}


async def test_edit_reply_markup(bot: Bot, telegram_api: FakeTelegramApi) -> None:
    sent = await bot.send_message(chat_id=7, text="P1", reply_markup=KEYBOARD)
    edited = await bot.edit_message_reply_markup(chat_id=7, message_id=sent.message_id)
    assert not isinstance(edited, bool)
    assert edited.reply_markup is None
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_reply_markup(chat_id=7, message_id=sent.message_id)
    with pytest.raises(BadRequest, match="not found"):
        await bot.edit_message_reply_markup(chat_id=7, message_id=10_000)


async def test_webhook_roundtrip(bot: Bot, telegram_api: FakeTelegramApi) -> None:
    url = "https://bot.example/telegram/webhook"
    assert await bot.set_webhook(url, secret_token="s3cret", allowed_updates=["message"])
    info = await bot.get_webhook_info()
    assert info.url == url
    assert info.allowed_updates == ("message",)
    assert telegram_api.webhook["secret_token"] == "s3cret"
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert (await bot.get_webhook_info()).url == ""


async def test_unknown_token_is_invalid(telegram_api: FakeTelegramApi) -> None:
    bot = Bot("42:wrong", base_url=telegram_api.base_url)
    with pytest.raises(InvalidToken):
        await bot.initialize()
    await bot.shutdown()
    assert telegram_api.calls()[0].status == 401


async def test_json_and_multipart_bodies(telegram_api: FakeTelegramApi) -> None:
    url = f"{telegram_api.base_url}{telegram_api.token}/sendMessage"
    async with httpx.AsyncClient() as client:
        by_json = await client.post(url, json={"chat_id": 3, "text": "json", "reply_markup": {}})
        by_form = await client.post(url, files={"doc": ("a.txt", b"abc")}, data={"chat_id": "3"})
    assert by_json.json()["result"]["text"] == "json"
    assert by_form.status_code == 400  # no text
    multipart = telegram_api.calls("sendMessage")[1]
    assert multipart.content_type == "multipart/form-data"
    assert multipart.params["doc"] == {"filename": "a.txt", "content_type": "text/plain", "size": 3}


async def test_wait_for_async_sees_background_sends(
    bot: Bot, telegram_api: FakeTelegramApi
) -> None:
    mark = telegram_api.mark()
    task = asyncio.create_task(bot.send_message(chat_id=8, text="later"))
    call = await telegram_api.wait_for_async("sendMessage", since=mark)
    await task
    assert call.params["text"] == "later"
    assert json.loads(call.raw["chat_id"]) == 8
