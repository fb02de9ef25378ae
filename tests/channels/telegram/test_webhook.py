"""POST /webhooks/telegram through the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.db.engine import make_engine
from bot.db.models import Conversation, OutboundMessage, Participant, Screening
from bot.observability import DUPLICATES_DROPPED, MESSAGES_IN
from bot.outbox.enums import Purpose
from bot.worker import CRISIS_LANE
from tests.fakes import fixtures
from tests.fakes.telegram_api import FakeTelegramApi
from tests.web.webhooks_support import (
    BOT_ID,
    Running,
    callback_update,
    inbound_rows,
    make_settings,
    message,
    next_update_id,
    outbound_rows,
    post_update,
    running_app,
    text_update,
)

CHAT = 5_550_123
telegram_api = fixtures.telegram_api


def replies_after(db: Engine, last_id: int) -> list[OutboundMessage]:
    return [r for r in outbound_rows(db, "reply") if (r.id or 0) > last_id]


def last_outbound_id(db: Engine) -> int:
    rows = outbound_rows(db)
    return max((r.id or 0) for r in rows) if rows else 0


async def process(running: Running) -> int:
    return len(await asyncio.to_thread(running.runtime.conversations.process_pending))


@pytest.fixture
async def running(db: Engine, database_url: str) -> Any:
    async with running_app(make_settings(database_url), db) as app:
        yield app


async def test_a_message_with_the_right_secret_is_recorded_then_answered(
    running: Running, db: Engine
) -> None:
    accepted = MESSAGES_IN.value(channel="telegram", outcome="accepted")
    update = text_update(CHAT, "hola")
    response = await post_update(running.client, update)
    assert response.status_code == 200 and response.content == b""
    [row] = inbound_rows(db)
    assert row.provider_message_id == f"{BOT_ID}:{update['update_id']}"
    assert (row.channel, row.kind, row.text, row.status) == ("telegram", "text", "hola", "pending")
    assert str(CHAT) not in (row.sender_enc or "") and row.sender_hash
    assert MESSAGES_IN.value(channel="telegram", outcome="accepted") == accepted + 1

    assert await process(running) == 1
    [row] = inbound_rows(db)
    assert row.status == "done"
    replies = outbound_rows(db, "reply")
    assert replies and all(r.status == "pending" and r.channel == "telegram" for r in replies)
    assert running.runtime.cipher.decrypt(replies[0].recipient_enc or "") == str(CHAT)


@pytest.mark.parametrize("secret", [None, "", "wrong", "tg_Webhook-Secret_012345678"])
async def test_a_missing_or_forged_secret_is_refused(
    running: Running, db: Engine, secret: str | None
) -> None:
    rejected = MESSAGES_IN.value(channel="telegram", outcome="rejected")
    response = await post_update(running.client, text_update(CHAT, "hola"), secret=secret)
    assert response.status_code == 403
    assert inbound_rows(db) == []
    assert MESSAGES_IN.value(channel="telegram", outcome="rejected") == rejected + 1


async def test_without_a_configured_secret_the_webhook_is_unavailable(
    db: Engine, database_url: str
) -> None:
    settings = make_settings(database_url, telegram_webhook_secret=None)
    async with running_app(settings, db) as running:
        response = await post_update(running.client, text_update(CHAT, "hola"), secret="")
        assert response.status_code == 503
    assert inbound_rows(db) == []


@pytest.mark.parametrize(
    "body", [b"{oops", b"", b"[]", b'{"message": {}}', b'{"update_id": "7"}', b"\xff"]
)
async def test_malformed_bodies_get_400(running: Running, db: Engine, body: bytes) -> None:
    response = await running.client.post(
        "/webhooks/telegram",
        content=body,
        headers={"X-Telegram-Bot-Api-Secret-Token": "tg_Webhook-Secret_0123456789"},
    )
    assert response.status_code == 400
    assert inbound_rows(db) == []


async def test_a_huge_body_is_refused(running: Running, db: Engine) -> None:
    update = text_update(CHAT, "x" * 300_000)
    response = await post_update(running.client, update)
    assert response.status_code == 413
    assert inbound_rows(db) == []


@pytest.mark.parametrize(
    "update",
    [
        {"update_id": 1, "poll": {"id": "1", "question": "q", "options": [], "total_voter_count": 0,
                                  "is_closed": False, "is_anonymous": True, "type": "regular",
                                  "allows_multiple_answers": False}},
        {"update_id": 2, "my_chat_member": {"chat": {"id": 1, "type": "private"}}},
        {"update_id": 3},
        {"update_id": 4, "message": {"message_id": 1}},
        {"update_id": 5, "message": message({"id": -100, "type": "supergroup", "title": "g"},
                                            text="hola")},
        {"update_id": 6, "message": message({"id": -1, "type": "group", "title": "g"},
                                            text="hola")},
        {"update_id": 7, "channel_post": message({"id": -2, "type": "channel", "title": "c"},
                                                 text="hola")},
    ],
    ids=["poll", "unreadable-member", "empty", "unreadable", "supergroup", "group", "channel"],
)  # fmt: skip
async def test_updates_we_do_not_use_get_200_and_are_ignored(
    running: Running, db: Engine, update: dict[str, Any]
) -> None:
    ignored = MESSAGES_IN.value(channel="telegram", outcome="ignored")
    response = await post_update(running.client, update)
    assert response.status_code == 200
    assert inbound_rows(db) == []
    assert MESSAGES_IN.value(channel="telegram", outcome="ignored") == ignored + 1


async def test_a_repeated_delivery_is_answered_200_and_processed_once(
    running: Running, db: Engine
) -> None:
    dropped = DUPLICATES_DROPPED.value(channel="telegram")
    update = text_update(CHAT, "hola")
    assert (await post_update(running.client, update)).status_code == 200
    assert await process(running) == 1
    replies = len(outbound_rows(db))
    for _ in range(3):
        assert (await post_update(running.client, update)).status_code == 200
    assert await process(running) == 0
    assert len(inbound_rows(db)) == 1 and len(outbound_rows(db)) == replies
    assert DUPLICATES_DROPPED.value(channel="telegram") == dropped + 3


async def test_concurrent_identical_deliveries_to_two_servers_record_one_step(
    db: Engine, database_url: str
) -> None:
    """Two apps with their own engines (as two server processes) get 20 copies at once."""
    settings = make_settings(database_url)
    other_db = make_engine(database_url)
    update = text_update(CHAT, "hola")
    try:
        async with running_app(settings, db) as one, running_app(settings, other_db) as two:
            responses = await asyncio.gather(
                *(post_update((one, two)[i % 2].client, update) for i in range(20))
            )
            assert [r.status_code for r in responses] == [200] * 20
            outcomes = await asyncio.gather(
                asyncio.to_thread(one.runtime.conversations.process_pending),
                asyncio.to_thread(two.runtime.conversations.process_pending),
            )
    finally:
        other_db.dispose()
    assert sum(len(o) for o in outcomes) == 1
    [row] = inbound_rows(db)
    assert row.status == "done"
    with Session(db) as session:
        assert len(session.exec(select(Participant)).all()) == 1
        assert session.exec(select(Conversation)).one().version == 1


async def test_stickers_photos_and_voice_are_recorded_as_unsupported(
    running: Running, db: Engine
) -> None:
    await post_update(running.client, text_update(CHAT, "hola"))
    await post_update(running.client, callback_update(CHAT, "lang:es", "q0"))
    await post_update(running.client, callback_update(CHAT, "consent:yes", "q1"))
    await process(running)
    sticker = {
        "file_id": "s", "file_unique_id": "u", "width": 1, "height": 1,
        "is_animated": False, "is_video": False, "type": "regular",
    }  # fmt: skip
    voice = {"file_id": "v", "file_unique_id": "w", "duration": 2}
    before = last_outbound_id(db)
    for content in ({"sticker": sticker}, {"voice": voice}):
        chat = {"id": CHAT, "type": "private", "first_name": "A"}
        update = {"update_id": next_update_id(), "message": message(chat, **content)}
        assert (await post_update(running.client, update)).status_code == 200
    kinds = [r.kind for r in inbound_rows(db)]
    assert kinds[-2:] == ["unsupported", "unsupported"]
    assert await process(running) == 2
    lines = running.runtime.content.resources.first_lines_text("es")
    unsupported = running.runtime.content.catalog("es").render("unsupported", crisis_lines=lines)
    assert "113" in unsupported and "106" in unsupported  # a voice note may carry a crisis
    texts = [r.text for r in replies_after(db, before)]
    assert sum(unsupported in t for t in texts) == 2


async def test_a_button_press_is_recorded_once_and_answered_in_every_response(
    running: Running, db: Engine
) -> None:
    """The webhook's response body is the answerCallbackQuery call: every delivery of the
    press (Telegram retried it) stops the client's progress bar, and nothing is queued."""
    await post_update(running.client, text_update(CHAT, "hola"))
    press = callback_update(CHAT, "consent:yes", "cbq-1")
    for _ in range(3):  # Telegram retried the press
        response = await post_update(running.client, press)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.json() == {"method": "answerCallbackQuery", "callback_query_id": "cbq-1"}
    rows = inbound_rows(db)
    assert [r.payload for r in rows] == [None, "consent:yes"]
    assert outbound_rows(db, Purpose.CALLBACK_ANSWER) == []
    assert await process(running) == 2

    no_data = callback_update(CHAT, None, "cbq-2")
    response = await post_update(running.client, no_data)
    assert response.json() == {"method": "answerCallbackQuery", "callback_query_id": "cbq-2"}
    text = await post_update(running.client, text_update(CHAT, "hola"))
    assert (text.status_code, text.content) == (200, b"")  # a text message needs no answer


async def test_a_press_in_a_group_is_ignored_but_still_answered(
    running: Running, db: Engine
) -> None:
    press = callback_update(CHAT, "consent:yes", "cbq-group")
    press["callback_query"]["message"]["chat"] = {"id": -100123, "type": "group", "title": "G"}
    response = await post_update(running.client, press)
    assert response.json() == {"method": "answerCallbackQuery", "callback_query_id": "cbq-group"}
    assert inbound_rows(db) == []


async def test_a_press_that_cannot_be_recorded_is_not_answered(tmp_path: Any) -> None:
    """503 and no answer: Telegram redelivers the press, which is answered once recorded."""
    settings = make_settings(f"sqlite:///{tmp_path / 'x.db'}")
    dead = make_engine("postgresql+psycopg://postgres@127.0.0.1:9/nowhere?connect_timeout=1")
    try:
        async with running_app(settings, dead) as running:
            response = await post_update(running.client, callback_update(CHAT, "consent:yes", "q"))
            assert (response.status_code, response.content) == (503, b"")
    finally:
        dead.dispose()


async def test_an_edit_is_read_only_for_crisis_words(running: Running, db: Engine) -> None:
    crisis_text = "hoy quiero morir"
    assert running.runtime.conversations.flow.detect_crisis(crisis_text) is not None
    chat = {"id": CHAT, "type": "private", "first_name": "A"}
    plain = {"update_id": next_update_id(), "edited_message": message(chat, text="2")}
    assert (await post_update(running.client, plain)).status_code == 200
    assert inbound_rows(db) == []
    crisis = {"update_id": next_update_id(), "edited_message": message(chat, text=crisis_text)}
    assert (await post_update(running.client, crisis)).status_code == 200
    [row] = inbound_rows(db)
    assert row.text == crisis_text


async def test_text_a_database_cannot_store_is_cleaned_not_refused(
    running: Running, db: Engine
) -> None:
    update = text_update(CHAT, "ho\x00la \ud83d")
    response = await post_update(running.client, update)
    assert response.status_code == 200
    [row] = inbound_rows(db)
    assert row.text is not None and "\x00" not in row.text and row.text.startswith("hola")


async def test_a_database_outage_gives_503_so_telegram_retries(tmp_path: Any) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'x.db'}")
    dead = make_engine("postgresql+psycopg://postgres@127.0.0.1:9/nowhere?connect_timeout=1")
    try:
        async with running_app(settings, dead) as running:
            response = await post_update(running.client, text_update(CHAT, "hola"))
            assert response.status_code == 503
    finally:
        dead.dispose()


async def test_a_whole_phq9_through_the_webhook_with_buttons(
    db: Engine, database_url: str, telegram_api: FakeTelegramApi
) -> None:
    """The in-process loops run the steps and send the replies to the (fake) Bot API, with
    inline keyboards; every press is answered with answerCallbackQuery (in the response)."""
    settings = make_settings(
        database_url, run_workers_in_server=True, telegram_api_base_url=telegram_api.base_url
    )
    async with running_app(settings, db) as running:
        answered: list[str] = []

        async def say(update: dict[str, Any]) -> OutboundMessage:
            before = last_outbound_id(db)
            response = await post_update(running.client, update)
            assert response.status_code == 200
            if response.content:
                answered.append(response.json()["callback_query_id"])
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                pending = [r for r in inbound_rows(db) if r.status == "pending"]
                replies = replies_after(db, before)
                if not pending and replies:
                    return replies[-1]
                await asyncio.sleep(0.02)
            raise AssertionError("no reply from the inbox loop")

        pressed: list[str] = []

        def press(reply: OutboundMessage, index: int) -> dict[str, Any]:
            pressed.append(f"q{next_update_id()}")
            return callback_update(CHAT, reply.choices[index]["payload"], pressed[-1])

        language = await say(text_update(CHAT, "hola"))
        consent = await say(press(language, 1))  # English first, then consent in English
        menu = await say(press(consent, 0))
        menu_payloads = [c["payload"] for c in menu.choices]
        assert "menu:depression" in menu_payloads
        question = await say(press(menu, menu_payloads.index("menu:depression")))
        for number in range(1, 10):
            assert f"Question {number} of 9" in question.text
            assert len(question.choices) == 4
            question = await say(press(question, 1))  # "several days" = 1 point each

        # The dispatcher sends the replies with their buttons.
        first = await telegram_api.wait_for_async("sendMessage", timeout=20)
        assert first.params["chat_id"] == CHAT
        keyboard = await telegram_api.wait_for_async(
            "sendMessage", lambda call: "reply_markup" in call.params, timeout=20
        )
        buttons = [b for row in keyboard.params["reply_markup"]["inline_keyboard"] for b in row]
        assert [b["callback_data"] for b in buttons] == [c["payload"] for c in language.choices]
    with Session(db) as session:
        screening = session.exec(select(Screening)).one()
        assert (screening.instrument_id, screening.total) == ("phq9", 9)
        conversation = session.exec(select(Conversation)).one()
    assert len(pressed) == len(answered) == 12
    assert answered == pressed  # every press answered in its webhook response
    assert telegram_api.calls("answerCallbackQuery") == []
    assert conversation.version == len(inbound_rows(db)) == 13


async def test_crisis_words_wake_the_crisis_lane_at_once(running: Running) -> None:
    """The lane otherwise finds new messages at its next poll (every 0.2 s)."""
    lane = running.app.state.workers.loops[CRISIS_LANE]
    await post_update(running.client, text_update(CHAT, "hola, ¿cómo funciona esto?"))
    assert not lane.woken
    await post_update(running.client, text_update(CHAT, "ya no aguanto, me quiero matar"))
    assert lane.woken
