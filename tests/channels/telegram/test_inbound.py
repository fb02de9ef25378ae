"""Telegram updates → Inbound, with python-telegram-bot's own parser."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.channels.telegram.inbound import (
    MalformedUpdate,
    TelegramDelivery,
    bot_id_of,
    load_update,
    parse_update,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
CHAT = {"id": 4242, "type": "private", "first_name": "Ana"}
USER = {"id": 4242, "is_bot": False, "first_name": "Ana"}


def parse(update: dict[str, Any]) -> TelegramDelivery:
    return parse_update(load_update(json.dumps(update)), bot_id="777", received_at=NOW)


def message(chat: dict[str, Any] = CHAT, **content: Any) -> dict[str, Any]:
    return {"message_id": 9, "date": 1_790_000_000, "chat": chat, "from": USER, **content}


def test_a_text_message() -> None:
    parsed = parse({"update_id": 31, "message": message(text="hola")})
    assert parsed.ignored is None and parsed.callback_query_id is None and not parsed.edited
    inbound = parsed.inbound
    assert inbound is not None
    assert (inbound.channel, inbound.external_id, inbound.text, inbound.kind) == (
        "telegram",
        "4242",
        "hola",
        "text",
    )
    assert inbound.provider_message_id == "777:31"
    assert inbound.received_at == NOW and inbound.payload is None


def test_a_command_is_passed_as_its_text() -> None:
    entities = [{"type": "bot_command", "offset": 0, "length": 10}]
    parsed = parse({"update_id": 1, "message": message(text="/start@bot", entities=entities)})
    assert parsed.inbound is not None and parsed.inbound.text == "/start@bot"


def test_a_button_press_carries_its_data_and_query_id() -> None:
    update = {
        "update_id": 2,
        "callback_query": {
            "id": "98765",
            "from": USER,
            "chat_instance": "-1",
            "data": "phq9:2",
            "message": message(text="Question 1 of 9"),
        },
    }
    parsed = parse(update)
    assert parsed.callback_query_id == "98765"
    assert parsed.inbound is not None
    assert (parsed.inbound.payload, parsed.inbound.text, parsed.inbound.kind) == (
        "phq9:2",
        "",
        "text",
    )
    assert parsed.inbound.external_id == "4242"


def test_a_button_under_an_inaccessible_message_still_counts() -> None:
    old = {"chat": CHAT, "message_id": 3, "date": 0}
    update = {
        "update_id": 3,
        "callback_query": {
            "id": "1",
            "from": USER,
            "chat_instance": "-1",
            "data": "x",
            "message": old,
        },
    }
    parsed = parse(update)
    assert parsed.inbound is not None and parsed.inbound.payload == "x"


def test_a_button_without_data_is_unsupported_but_answered() -> None:
    update = {
        "update_id": 4,
        "callback_query": {
            "id": "5",
            "from": USER,
            "chat_instance": "-1",
            "game_short_name": "g",
            "message": message(text="q"),
        },
    }
    parsed = parse(update)
    assert parsed.callback_query_id == "5"
    assert parsed.inbound is not None and parsed.inbound.kind == "unsupported"


def test_an_inline_message_button_is_ignored() -> None:
    update = {
        "update_id": 5,
        "callback_query": {
            "id": "6",
            "from": USER,
            "chat_instance": "-1",
            "data": "x",
            "inline_message_id": "abc",
        },
    }
    assert parse(update).ignored == "inline_message"


@pytest.mark.parametrize(
    "content",
    [
        {"sticker": {
            "file_id": "s", "file_unique_id": "u", "width": 1, "height": 1,
            "is_animated": False, "is_video": False, "type": "regular",
        }},
        {"photo": [{"file_id": "p", "file_unique_id": "u", "width": 1, "height": 1}]},
        {"voice": {"file_id": "v", "file_unique_id": "u", "duration": 3}},
        {"location": {"latitude": -12.0, "longitude": -77.0}},
        {"contact": {"phone_number": "+51999999999", "first_name": "X"}},
    ],
    ids=["sticker", "photo", "voice", "location", "contact"],
)  # fmt: skip
def test_media_without_text_is_unsupported(content: dict[str, Any]) -> None:
    parsed = parse({"update_id": 6, "message": message(**content)})
    assert parsed.inbound is not None
    assert (parsed.inbound.kind, parsed.inbound.text) == ("unsupported", "")


def test_a_photo_caption_is_read_as_text() -> None:
    photo = [{"file_id": "p", "file_unique_id": "u", "width": 1, "height": 1}]
    parsed = parse({"update_id": 7, "message": message(photo=photo, caption="me siento mal")})
    assert parsed.inbound is not None
    assert (parsed.inbound.kind, parsed.inbound.text) == ("text", "me siento mal")


def test_an_edited_message_is_flagged() -> None:
    parsed = parse({"update_id": 8, "edited_message": {**message(text="2"), "edit_date": 1}})
    assert parsed.edited and parsed.inbound is not None and parsed.inbound.text == "2"


@pytest.mark.parametrize("kind", ["group", "supergroup", "channel"])
def test_chats_other_than_private_are_ignored(kind: str) -> None:
    chat = {"id": -100123, "type": kind, "title": "A group"}
    assert parse({"update_id": 9, "message": message(chat, text="hola")}).ignored == "not_private"
    post = {"update_id": 10, "channel_post": message(chat, text="news")}
    assert parse(post).ignored == "unused_update"


def test_a_button_in_a_group_is_ignored() -> None:
    group = {"id": -5, "type": "group", "title": "g"}
    update = {
        "update_id": 11,
        "callback_query": {
            "id": "7",
            "from": USER,
            "chat_instance": "-1",
            "data": "x",
            "message": message(group, text="q"),
        },
    }
    assert parse(update).ignored == "not_private"


def test_service_messages_and_unused_updates_are_ignored() -> None:
    service = message(new_chat_title="x")
    assert parse({"update_id": 12, "message": service}).ignored == "service_message"
    poll_answer = {
        "poll_id": "1",
        "option_ids": [0],
        "option_persistent_ids": ["a"],
        "user": USER,
    }
    assert parse({"update_id": 13, "poll_answer": poll_answer}).ignored == "unused_update"
    assert parse({"update_id": 14}).ignored == "unused_update"


def test_an_update_ptb_cannot_read_is_ignored_not_retried() -> None:
    broken = {"update_id": 15, "message": {"message_id": 1}}  # no chat, no date
    parsed = parse(broken)
    assert parsed.inbound is None and parsed.ignored == "unreadable"
    assert parsed.update_id == 15


@pytest.mark.parametrize(
    "body",
    [b"{oops", b"", b"[1, 2]", b'"text"', b"{}", b'{"update_id": "1"}', b'{"update_id": true}',
     b'{"update_id": -1}', b"\xff\xfe"],
)  # fmt: skip
def test_malformed_bodies_are_refused(body: bytes) -> None:
    with pytest.raises(MalformedUpdate):
        load_update(body)


def test_bot_id_of_a_token() -> None:
    assert bot_id_of("123456:ABC-def") == "123456"
    assert bot_id_of(None) == "0"
    assert bot_id_of("garbage") == "0"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            {"voice": {"file_id": "v", "file_unique_id": "u", "duration": 3,
                       "mime_type": "audio/ogg"}},
            ("voice", "v", "audio/ogg"),
        ),
        (
            {"photo": [{"file_id": "small", "file_unique_id": "a", "width": 9, "height": 9},
                       {"file_id": "large", "file_unique_id": "b", "width": 99, "height": 99}]},
            ("photo", "large", "image/jpeg"),
        ),
        (
            {"video_note": {"file_id": "n", "file_unique_id": "u", "length": 9, "duration": 2}},
            ("video", "n", None),
        ),
        (
            {"document": {"file_id": "d", "file_unique_id": "u", "mime_type": "application/pdf"}},
            ("document", "d", "application/pdf"),
        ),
        (
            {"sticker": {"file_id": "s", "file_unique_id": "u", "width": 1, "height": 1,
                         "is_animated": True, "is_video": False, "type": "regular"}},
            ("sticker", "s", None),
        ),
        (
            {"sticker": {"file_id": "s", "file_unique_id": "u", "width": 1, "height": 1,
                         "is_animated": False, "is_video": False, "type": "regular"}},
            ("sticker", "s", "image/webp"),
        ),
        ({"location": {"latitude": -12.0, "longitude": -77.0}}, ("other", None, None)),
    ],
    ids=["voice", "photo-largest", "video-note", "pdf", "animated-sticker", "sticker", "location"],
)  # fmt: skip
def test_the_file_a_person_sent_is_kept_by_reference(
    content: dict[str, Any], expected: tuple[str, str | None, str | None]
) -> None:
    parsed = parse({"update_id": 6, "message": message(**content)})
    assert parsed.inbound is not None and parsed.inbound.media is not None
    media = parsed.inbound.media
    assert (media.kind, media.ref, media.content_type) == expected


def test_a_photo_with_a_caption_is_text_with_its_file() -> None:
    photo = [{"file_id": "p", "file_unique_id": "u", "width": 1, "height": 1}]
    parsed = parse({"update_id": 7, "message": message(photo=photo, caption="mire")})
    assert parsed.inbound is not None and parsed.inbound.kind == "text"
    assert parsed.inbound.media is not None and parsed.inbound.media.ref == "p"


def test_text_has_no_media() -> None:
    parsed = parse({"update_id": 7, "message": message(text="hola")})
    assert parsed.inbound is not None and parsed.inbound.media is None
