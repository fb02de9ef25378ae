"""Telegram updates → our ``Inbound`` messages, parsed with python-telegram-bot.

Only private chats are served. Text and ``/commands`` become text messages; a button press
(``callback_query``) becomes a message whose ``payload`` is the button's ``callback_data``
and carries the query id, which must always be answered (``answerCallbackQuery``); stickers,
photos, voice notes… without a caption become ``unsupported`` (the bot answers kindly, with the
crisis lines). A file's ``file_id`` is kept as the message's ``media`` so the dashboard can
fetch it for a psychologist (``bot.channels.media``). Group,
supergroup and channel chats, service messages and update types we do not use are ignored:
the webhook still answers 200, so Telegram never redelivers a poison update forever.

The provider id is ``<bot id>:<update_id>``: update ids restart from an arbitrary number for
another bot, so the bot id keeps a new bot's updates from looking like old ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from telegram import Chat, Message, Update

from bot.channels.json_limits import nesting_within
from bot.flows.types import Inbound, Media, MediaKind, MessageKind
from bot.outbox.enums import Channel

CHANNEL = Channel.TELEGRAM


class MalformedUpdate(ValueError):
    """The body is not JSON, or not an object with an integer ``update_id`` (answer 400)."""


@dataclass(frozen=True, slots=True)
class TelegramDelivery:
    """What an update means for us: a message to record, or a reason to ignore it."""

    update_id: int
    inbound: Inbound | None = None
    ignored: str | None = None
    callback_query_id: str | None = None
    edited: bool = False


def bot_id_of(token: str | None) -> str:
    """The numeric bot id at the start of a token (``123:ABC`` → ``123``); ``0`` if unknown."""
    prefix = (token or "").split(":", 1)[0]
    return prefix if prefix.isdigit() else "0"


#: Telegram's update ids are 32-bit; anything past a signed 64-bit integer is not one (and
#: would not fit the inbox's provider id).
MAX_UPDATE_ID = 2**63 - 1


def load_update(body: bytes | str) -> dict[str, Any]:
    """Decode the webhook body; raises ``MalformedUpdate`` for anything but an update object
    (also for a body nesting deeper than any update, checked before parsing)."""
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    if not nesting_within(raw):
        raise MalformedUpdate("the body nests deeper than an update")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as err:  # JSONDecodeError and UnicodeDecodeError
        raise MalformedUpdate("the body is not JSON") from err
    if not isinstance(data, dict):
        raise MalformedUpdate("the body is not a JSON object")
    update_id = data.get("update_id")
    if (
        not isinstance(update_id, int)
        or isinstance(update_id, bool)
        or not 0 <= update_id <= MAX_UPDATE_ID
    ):
        raise MalformedUpdate("the update has no update_id")
    return data


#: Parts of a message we never read; dropped before parsing (PTB's parser is the costliest
#: step of a webhook) and so never held in memory. Anything else, unknown keys included, stays.
_UNUSED_MESSAGE_KEYS = frozenset(
    {
        "from",
        "sender_chat",
        "reply_to_message",
        "external_reply",
        "quote",
        "reply_to_story",
        "reply_markup",
        "entities",
        "caption_entities",
        "link_preview_options",
        "forward_origin",
        "pinned_message",
        "via_bot",
    }
)


def _slim_message(message: Any) -> Any:
    if not isinstance(message, dict):
        return message
    slim = {k: v for k, v in message.items() if k not in _UNUSED_MESSAGE_KEYS}
    chat = message.get("chat")
    if isinstance(chat, dict) and "id" in chat and "type" in chat:
        slim["chat"] = {"id": chat["id"], "type": chat["type"]}
    return slim


def slim_update(data: dict[str, Any]) -> dict[str, Any]:
    """The update without the parts we never read (sender profiles, quoted messages,
    keyboards, entities…); the rest is left for PTB to check."""
    slim = dict(data)
    for key in ("message", "edited_message"):
        if key in slim:
            slim[key] = _slim_message(slim[key])
    query = slim.get("callback_query")
    if isinstance(query, dict):
        query = dict(query)
        sender = query.get("from")
        if isinstance(sender, dict):
            query["from"] = {k: sender[k] for k in ("id", "is_bot", "first_name") if k in sender}
        slim["callback_query"] = query
    return slim


def parse_update(data: dict[str, Any], *, bot_id: str, received_at: datetime) -> TelegramDelivery:
    """Interpret a decoded update (see :func:`load_update`)."""
    update_id: int = data["update_id"]
    slim = slim_update(data)
    # Of the message under a pressed button only the chat is read: parsing the whole message
    # (PTB builds every one of its ~100 fields) would be most of a webhook's cost.
    query = slim.get("callback_query")
    button_message = query.pop("message", None) if isinstance(query, dict) else None
    try:
        update = Update.de_json(slim, None)
        chat = _chat_of(button_message)
        return _interpret(update, chat, update_id, f"{bot_id}:{update_id}", received_at)
    except _UNREADABLE:
        # Valid JSON with an update id that PTB cannot read (a field of the wrong type, a date
        # out of range, a message without a chat…): never make Telegram retry it.
        return TelegramDelivery(update_id, ignored="unreadable")


#: What PTB (or our reading of what it built) raises on an update of the wrong shape.
_UNREADABLE = (KeyError, TypeError, ValueError, AttributeError, OverflowError)


def _interpret(
    update: Update, chat: Chat | None, update_id: int, provider_id: str, received_at: datetime
) -> TelegramDelivery:
    if update.callback_query is not None:
        return _callback(update, chat, provider_id, received_at)
    message = update.message or update.edited_message
    if message is None:
        return TelegramDelivery(update_id, ignored="unused_update")
    if message.chat is None:
        return TelegramDelivery(update_id, ignored="unreadable")
    if message.chat.type != "private":
        return TelegramDelivery(update_id, ignored="not_private")
    if not _is_chat_id(message.chat.id):
        return TelegramDelivery(update_id, ignored="unreadable")
    edited = update.edited_message is not None
    text = message.text if message.text is not None else message.caption
    kind: MessageKind
    if not isinstance(text, str | None):
        # PTB keeps whatever JSON it was given: a list or an object is not text we can read.
        text, kind = "", "unsupported"
    elif text:
        kind = "text"
    elif _has_content(message):
        text, kind = "", "unsupported"
    else:
        return TelegramDelivery(update_id, ignored="service_message")
    inbound = Inbound(
        channel=CHANNEL,
        external_id=str(message.chat.id),
        provider_message_id=provider_id,
        received_at=received_at,
        text=text,
        kind=kind,
        media=media_of(message),
    )
    return TelegramDelivery(update_id, inbound=inbound, edited=edited)


#: Attachment fields with a downloadable file, and what we call each (``Message`` names).
_FILE_KINDS: tuple[tuple[str, MediaKind], ...] = (
    ("voice", "voice"),
    ("audio", "audio"),
    ("video_note", "video"),
    ("video", "video"),
    ("animation", "video"),
    ("photo", "photo"),
    ("sticker", "sticker"),
    ("document", "document"),
)
MAX_FILE_ID = 256


def media_of(message: Message) -> Media | None:
    """The file attached to ``message`` (the largest size of a photo), or ``other`` for a
    location, contact, poll…; None for plain text. A field of an unexpected shape is read
    as ``other`` rather than failing the update."""
    for field_name, kind in _FILE_KINDS:
        value = getattr(message, field_name, None)
        if not value:
            continue
        item = value[-1] if isinstance(value, tuple | list) else value
        file_id = getattr(item, "file_id", None)
        if not isinstance(file_id, str) or not file_id or len(file_id) > MAX_FILE_ID:
            return Media("other")
        mime = getattr(item, "mime_type", None)
        content_type = mime if isinstance(mime, str) and mime else _default_type(item, kind)
        return Media(kind, file_id, content_type)
    return Media("other") if _has_content(message) else None


def _default_type(item: object, kind: MediaKind) -> str | None:
    """Telegram gives no MIME type for photos (JPEG) and stickers (WebP, WebM video, or an
    animated ``.tgs`` that browsers cannot show)."""
    if kind == "photo":
        return "image/jpeg"
    if kind == "sticker":
        if getattr(item, "is_video", False) is True:
            return "video/webm"
        return None if getattr(item, "is_animated", False) is True else "image/webp"
    return None


def _is_chat_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _has_content(message: Message) -> bool:
    """A sticker, photo, voice note, location… (anything a person sent that is not text)."""
    return bool(message.effective_attachment)


def _chat_of(message: Any) -> Chat | None:
    """The chat of the message under a pressed button (None: an inline-mode message)."""
    if message is None:
        return None
    if not isinstance(message, dict):
        raise TypeError("callback_query.message is not an object")
    return Chat.de_json(message["chat"], None)


def _callback(
    update: Update, chat: Chat | None, provider_id: str, received_at: datetime
) -> TelegramDelivery:
    query = update.callback_query
    assert query is not None
    if not isinstance(query.id, str) or not query.id:
        return TelegramDelivery(update.update_id, ignored="unreadable")
    # Every press is answered (the client shows a progress bar until then), also one ignored.
    if chat is None:
        # A button under an inline-mode message: we never send those.
        return TelegramDelivery(
            update.update_id, ignored="inline_message", callback_query_id=query.id
        )
    if chat.type != "private":
        return TelegramDelivery(update.update_id, ignored="not_private", callback_query_id=query.id)
    if not _is_chat_id(chat.id):
        return TelegramDelivery(update.update_id, ignored="unreadable", callback_query_id=query.id)
    data = query.data if isinstance(query.data, str) else None  # a list or an object: unusable
    inbound = Inbound(
        channel=CHANNEL,
        external_id=str(chat.id),
        provider_message_id=provider_id,
        received_at=received_at,
        text="",
        payload=data or None,
        kind="text" if data else "unsupported",
    )
    return TelegramDelivery(update.update_id, inbound=inbound, callback_query_id=query.id)
