"""A file a person sent, fetched from the platform for a psychologist who opens it.

Files are never downloaded when they arrive: the inbox keeps the platform's reference
(Telegram ``file_id``, Twilio ``MediaUrl``), encrypted, and the dashboard's media route calls
:func:`fetch_media` when someone signed in opens the file on a case. The bytes go straight to
that browser and are not stored.

Each platform fetches its own: Telegram in :mod:`bot.channels.telegram.media`, WhatsApp (Twilio)
in :mod:`bot.channels.twilio.media`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.outbox.enums import Channel
from bot.settings import Settings

#: Telegram bots may download up to 20 MB; WhatsApp media are at most 16 MB.
MAX_MEDIA_BYTES = 20 * 1024 * 1024
FETCH_TIMEOUT = 15.0

Reason = Literal["not_configured", "gone", "too_large", "unavailable"]


class MediaUnavailable(Exception):
    """The file could not be fetched; ``reason`` says why in a word the page can show."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason)
        self.reason: Reason = reason


@dataclass(frozen=True, slots=True)
class FetchedMedia:
    body: bytes
    content_type: str | None


async def fetch_media(settings: Settings, channel: str, ref: str) -> FetchedMedia:
    """The file ``ref`` refers to, fetched from ``channel``'s platform."""
    if channel == Channel.TELEGRAM:
        from bot.channels.telegram.media import from_telegram

        return await from_telegram(settings, ref)
    if channel == Channel.WHATSAPP:
        from bot.channels.twilio.media import from_twilio

        return await from_twilio(settings, ref)
    raise MediaUnavailable("not_configured")
