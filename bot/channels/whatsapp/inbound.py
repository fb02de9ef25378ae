"""Twilio WhatsApp webhooks: form fields → our ``Inbound`` messages.

Twilio posts ``application/x-www-form-urlencoded`` fields (``From``, ``Body``, ``MessageSid``,
``ButtonPayload``, ``NumMedia``, ``ProfileName``…) and may add new ones without notice, so the
signature is checked over every field received (``bot.channels.twilio.signature``).
``ProfileName`` and the other personal fields are never read. An attachment's ``MediaUrl0``
is kept as the message's ``media`` (WhatsApp sends one file a message) so the dashboard can
fetch it for a psychologist, with the account's credentials (``bot.channels.media``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.channels.twilio.form import FormParams
from bot.flows.types import Inbound, Media, MediaKind, MessageKind
from bot.outbox.enums import Channel

CHANNEL = Channel.WHATSAPP
ADDRESS_PREFIX = "whatsapp:"
MAX_PROVIDER_ID = 64
MAX_MEDIA_URL = 512
MAX_CONTENT_TYPE = 100


@dataclass(frozen=True, slots=True)
class WhatsAppDelivery:
    """What a (signed) webhook means for us: a message to record, or why it is ignored."""

    inbound: Inbound | None = None
    ignored: str | None = None


def parse_message(params: Mapping[str, list[str]], *, received_at: datetime) -> WhatsAppDelivery:
    """Interpret the fields of an incoming-message webhook."""
    form = params if isinstance(params, FormParams) else FormParams(params)
    sender = form.first("From")
    sid = form.first("MessageSid") or form.first("SmsMessageSid")
    status = form.first("MessageStatus") or form.first("SmsStatus")
    if status and status != "received":
        return WhatsAppDelivery(ignored="status_callback")
    if not sender.startswith(ADDRESS_PREFIX) or len(sender) <= len(ADDRESS_PREFIX):
        return WhatsAppDelivery(ignored="not_whatsapp")
    if not sid or len(sid) > MAX_PROVIDER_ID:
        return WhatsAppDelivery(ignored="no_message_id")
    body = form.first("Body")
    payload = form.first("ButtonPayload") or None
    kind: MessageKind
    if body.strip() or payload:
        kind = "text"
    else:
        body, kind = "", "unsupported"  # media, location, contact… without text
    inbound = Inbound(
        channel=CHANNEL,
        external_id=sender,
        provider_message_id=sid,
        received_at=received_at,
        text=body,
        payload=payload,
        kind=kind,
        media=media_of(form, has_text=kind == "text"),
    )
    return WhatsAppDelivery(inbound=inbound)


def media_of(form: FormParams, *, has_text: bool) -> Media | None:
    """The first attachment (``MediaUrl0`` and ``MediaContentType0``), ``other`` for a
    location or anything else without text, None for plain text."""
    url = form.first("MediaUrl0")
    content_type = form.first("MediaContentType0").split(";", 1)[0].strip().lower()
    if url.startswith("https://") and len(url) <= MAX_MEDIA_URL:
        usable_type = content_type if 0 < len(content_type) <= MAX_CONTENT_TYPE else None
        return Media(_kind_of(usable_type or ""), url, usable_type)
    if has_text and not form.first("Latitude"):
        return None
    return Media("other")


def _kind_of(content_type: str) -> MediaKind:
    if content_type == "image/webp":
        return "sticker"  # WhatsApp stickers; photos arrive as JPEG or PNG
    major = content_type.split("/", 1)[0]
    if major == "audio":
        return "voice"  # WhatsApp voice notes are audio/ogg; other audio reads the same way
    if major == "image":
        return "photo"
    if major == "video":
        return "video"
    return "document"
