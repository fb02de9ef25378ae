"""Twilio WhatsApp webhooks: signature check and form fields → our ``Inbound`` messages.

Twilio posts ``application/x-www-form-urlencoded`` fields (``From``, ``Body``, ``MessageSid``,
``ButtonPayload``, ``NumMedia``, ``ProfileName``…) and may add new ones without notice, so the
signature is checked over every field received. ``ProfileName`` and the other personal fields
are never read. An attachment's ``MediaUrl0`` is kept as the message's ``media`` (WhatsApp
sends one file a message) so the dashboard can fetch it for a psychologist, with the account's
credentials (``bot.channels.media``).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl

from twilio.request_validator import RequestValidator, get_signature_algorithm

from bot.flows.types import Inbound, Media, MediaKind, MessageKind
from bot.outbox.enums import Channel

CHANNEL = Channel.WHATSAPP
ADDRESS_PREFIX = "whatsapp:"
MAX_PROVIDER_ID = 64
MAX_MEDIA_URL = 512
MAX_CONTENT_TYPE = 100


class FormParams(dict[str, list[str]]):
    """Form fields with every value of a repeated field (what ``RequestValidator`` reads)."""

    def getall(self, name: str) -> list[str]:
        return self[name]

    def first(self, name: str) -> str:
        values = self.get(name)
        return values[0] if values else ""

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> FormParams:
        params = cls()
        for name, value in pairs:
            params.setdefault(name, []).append(value)
        return params


def parse_form(body: bytes) -> FormParams:
    """Decode an urlencoded body; undecodable bytes become U+FFFD (the signature then fails)."""
    return FormParams.from_pairs(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def signed_url(public_base_url: str, path: str, query_string: str) -> str:
    """The URL Twilio called, as it signed it: the configured public base URL (never the Host
    header, which is wrong behind a proxy), the path, and the raw query string."""
    url = public_base_url.rstrip("/") + path
    return f"{url}?{query_string}" if query_string else url


def signature_valid(
    auth_token: str,
    url: str,
    params: FormParams,
    signature: str | None,
    settings_header: str | None = None,
    *,
    fragment: str | None = None,
) -> bool:
    """Twilio's own check of ``X-Twilio-Signature`` over ``url`` and every form field.

    The signature over ``url`` as given is computed first (one HMAC); only when it differs
    does ``RequestValidator.validate`` try the URL with and without its port, as Twilio's
    signing is inconsistent about the port. ``fragment``: the connection overrides the
    configured webhook URL ends with (``#rc=3&rp=5xx``); whether Twilio signs them is not
    documented, so the URL with them is accepted too."""
    if not signature:
        return False
    if _signed_over(auth_token, url, params, signature, settings_header):
        return True
    return bool(fragment) and _signed_over(
        auth_token, f"{url}#{fragment}", params, signature, settings_header
    )


def _signed_over(
    auth_token: str, url: str, params: FormParams, signature: str, settings_header: str | None
) -> bool:
    algorithm = get_signature_algorithm(settings_header)
    validator = RequestValidator(auth_token)  # twilio is untyped: bool() for its answers
    try:
        expected = validator.compute_signature(url, params, algorithm)
    except ValueError:  # an algorithm this twilio version does not know: validate() says no
        return bool(validator.validate(url, params, signature, algorithm))
    if hmac.compare_digest(expected.encode(), signature.encode("latin-1", "replace")):
        return True
    return bool(validator.validate(url, params, signature, algorithm))


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
