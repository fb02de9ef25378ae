"""Webhook input checked at the edge, and one update never failing the others of its batch:
text and caption of any JSON type, JSON nested deep, long reply chains, a signed status
callback with an absurd ErrorCode. No 500, and the valid updates beside them are recorded."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.channels.json_limits import MAX_DEPTH, nesting_within
from bot.channels.twilio import status as twilio_status
from tests.web.webhooks_support import (
    BOT_ID,
    PUBLIC_BASE_URL,
    WEBHOOK_SECRET,
    Running,
    inbound_rows,
    make_settings,
    message,
    next_update_id,
    post_twilio,
    post_update,
    private_chat,
    running_app,
    text_update,
)

ODD_VALUES: list[Any] = [
    ["me", "quiero", "matar"],
    {"text": "hola"},
    12345,
    3.5,
    True,
    None,
    "",
    [[[[]]]],
]


@pytest.fixture
async def running(db: Engine, database_url: str) -> Any:
    async with running_app(make_settings(database_url), db) as app:
        yield app


def odd_update(field: str, value: Any) -> dict[str, Any]:
    return {
        "update_id": next_update_id(),
        "message": message(private_chat(9_100_000), **{field: value}),
    }


async def test_text_of_any_type_never_fails_the_valid_updates_beside_it(
    running: Running, db: Engine
) -> None:
    odd = [odd_update(f, v) for f in ("text", "caption") for v in ODD_VALUES]
    valid = [text_update(9_200_000 + n, f"hola {n}") for n in range(60)]
    bodies = [u for pair in zip(valid, odd * 4, strict=False) for u in pair] + valid[len(odd) * 4 :]
    responses = await asyncio.gather(*(post_update(running.client, u) for u in bodies))
    assert {r.status_code for r in responses} == {200}, [r.status_code for r in responses]
    rows = {row.provider_message_id: row for row in inbound_rows(db)}
    for update in valid:
        assert rows[f"{BOT_ID}:{update['update_id']}"].kind == "text"
    for update in odd:
        row = rows.get(f"{BOT_ID}:{update['update_id']}")
        content = update["message"].get("text", update["message"].get("caption"))
        if isinstance(content, str) and content:
            continue
        # Not a string: recorded as unsupported (the bot asks for text), or nothing at all.
        assert row is None or (row.kind == "unsupported" and not row.text), (content, row)


async def test_a_callback_payload_that_is_not_a_string_is_unsupported(
    running: Running, db: Engine
) -> None:
    update = {
        "update_id": next_update_id(),
        "callback_query": {
            "id": "q1",
            "from": {"id": 9_300_000, "is_bot": False, "first_name": "A"},
            "chat_instance": "-1",
            "data": {"not": "a string"},
            "message": message(private_chat(9_300_000), text="Q"),
        },
    }
    response = await post_update(running.client, update)
    assert response.status_code == 200
    (row,) = inbound_rows(db)
    assert row.kind == "unsupported" and row.payload is None


@pytest.mark.parametrize("depth", [1_000, MAX_DEPTH + 1])
async def test_json_nested_deep_is_refused_before_parsing(running: Running, depth: int) -> None:
    deep = b"[" * depth + b"]" * depth
    for body in (
        deep,
        b'{"a":' * depth + b"1" + b"}" * depth,
        b'{"update_id":5,"x":' + deep + b"}",
    ):
        response = await running.client.post(
            "/webhooks/telegram",
            content=body,
            headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
        )
        assert response.status_code == 400


def reply_chain(depth: int) -> dict[str, Any]:
    quoted: dict[str, Any] = {"message_id": 1, "date": 1, "chat": private_chat(1), "text": "x"}
    for n in range(depth):
        quoted = {**message(private_chat(1), text=f"r{n}"), "reply_to_message": quoted}
    return quoted


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"update_id": 1, "message": {"text": "[" * 5_000 + "{" * 5_000}}).encode()
    assert nesting_within(text)
    assert not nesting_within(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))
    assert nesting_within(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH)


async def test_a_reply_chain_within_the_depth_bound_is_read(running: Running, db: Engine) -> None:
    update = text_update(9_400_000, "hola")
    update["message"]["reply_to_message"] = reply_chain(8)
    assert (await post_update(running.client, update)).status_code == 200
    assert [row.text for row in inbound_rows(db)] == ["hola"]


async def test_a_deep_reply_chain_is_refused_not_a_500(running: Running) -> None:
    update = text_update(9_400_001, "hola")
    update["message"]["reply_to_message"] = reply_chain(400)
    assert (await post_update(running.client, update)).status_code == 400


@pytest.mark.parametrize("code", ["9" * 50, "99999999999", "-5", "1e9", "٣"])
async def test_a_signed_status_callback_with_an_absurd_error_code(
    running: Running, code: str
) -> None:
    form = {
        "MessageSid": "SM" + "1" * 32,
        "MessageStatus": "failed",
        "ErrorCode": code,
        "AccountSid": "AC" + "0" * 32,
    }
    response = await post_twilio(
        running.client,
        form,
        signed_url=f"{PUBLIC_BASE_URL}{twilio_status.PATH}",
        path=twilio_status.PATH,
    )
    assert response.status_code == 204


@pytest.mark.parametrize(
    "change",
    [
        {"chat": None},  # found by the fuzz tests: a message without a chat
        {"date": 10**20},  # found by the fuzz tests: a date past the platform's time_t
        {"chat": {"id": "not-a-number", "type": "private"}},
        {"chat": {"id": [1], "type": "private"}},
    ],
)
async def test_an_unreadable_message_is_answered_200_and_ignored(
    running: Running, db: Engine, change: dict[str, Any]
) -> None:
    update = text_update(9_500_000, "hola")
    update["message"].update(change)
    if change.get("chat", {}) is None:
        del update["message"]["chat"]
    assert (await post_update(running.client, update)).status_code == 200
    assert inbound_rows(db) == []


async def test_a_huge_update_id_is_refused(running: Running, db: Engine) -> None:
    response = await post_update(running.client, text_update(9_500_001, "hola", 10**60))
    assert response.status_code == 400
    assert inbound_rows(db) == []
