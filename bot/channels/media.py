"""A file a person sent, fetched from the platform for a psychologist who opens it.

Files are never downloaded when they arrive: the inbox keeps the platform's reference
(Telegram ``file_id``, Twilio ``MediaUrl``), encrypted, and the dashboard's media route calls
:func:`fetch_media` when someone signed in opens the file on a case. The bytes go straight to
that browser and are not stored.

* Telegram: ``getFile`` (python-telegram-bot), then the file URL built from the Bot API base
  (``…/bot`` → ``…/file/bot``); bots may download files of up to 20 MB.
* WhatsApp: an HTTP GET of the ``MediaUrl`` with the account's SID and auth token (Twilio's
  media URLs require them when media authentication is on); only URLs of this account on
  ``api.twilio.com`` are fetched, through ``TWILIO_API_BASE_URL`` when it is set. Twilio
  answers with a redirect to its storage; the credentials are not sent there.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

import httpx
from telegram import Bot
from telegram.error import BadRequest, TelegramError
from telegram.request import HTTPXRequest

from bot.channels.twilio.http import rewrite_url
from bot.outbox.enums import Channel
from bot.settings import Settings

log = logging.getLogger(__name__)

#: Telegram bots may download up to 20 MB; WhatsApp media are at most 16 MB.
MAX_MEDIA_BYTES = 20 * 1024 * 1024
FETCH_TIMEOUT = 15.0
TWILIO_HOST = "api.twilio.com"

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
    if channel == Channel.TELEGRAM:
        return await _from_telegram(settings, ref)
    if channel == Channel.WHATSAPP:
        return await _from_twilio(settings, ref)
    raise MediaUnavailable("not_configured")


def file_base_url(api_base_url: str) -> str:
    """The Bot API's file URL for its method URL: ``https://api.telegram.org/bot`` →
    ``https://api.telegram.org/file/bot`` (the same for a local Bot API server)."""
    base = api_base_url.rstrip("/")
    head, _, tail = base.rpartition("/")
    return f"{head}/file/{tail}"


async def _from_telegram(settings: Settings, file_id: str) -> FetchedMedia:
    if settings.telegram_bot_token is None:
        raise MediaUnavailable("not_configured")
    request = HTTPXRequest(
        connection_pool_size=2,
        read_timeout=FETCH_TIMEOUT,
        write_timeout=FETCH_TIMEOUT,
        connect_timeout=3.0,
        pool_timeout=FETCH_TIMEOUT,
    )
    bot = Bot(
        settings.telegram_bot_token.get_secret_value(),
        base_url=settings.telegram_api_base_url,
        base_file_url=file_base_url(settings.telegram_api_base_url),
        request=request,
    )
    try:
        async with bot:
            file = await bot.get_file(file_id)
            if file.file_size is not None and file.file_size > MAX_MEDIA_BYTES:
                raise MediaUnavailable("too_large")
            if not file.file_path:
                raise MediaUnavailable("gone")
            body = bytes(await file.download_as_bytearray())
    except BadRequest as exc:
        # "file is too big" or "wrong file_id or the file is temporarily unavailable"
        too_big = "too big" in str(exc).lower()
        raise MediaUnavailable("too_large" if too_big else "gone") from None
    except TelegramError as exc:
        log.warning("a Telegram file could not be fetched", extra={"error": type(exc).__name__})
        raise MediaUnavailable("unavailable") from None
    if len(body) > MAX_MEDIA_BYTES:
        raise MediaUnavailable("too_large")
    return FetchedMedia(body, None)


def _twilio_url_ok(url: str, account_sid: str) -> bool:
    parts = urlsplit(url)
    prefix = f"/2010-04-01/Accounts/{account_sid}/Messages/"
    return (
        parts.scheme == "https"
        and parts.hostname == TWILIO_HOST
        and parts.port is None
        and parts.path.startswith(prefix)
        and "/Media/" in parts.path
        and ".." not in parts.path
    )


async def _from_twilio(settings: Settings, url: str) -> FetchedMedia:
    sid, token = settings.twilio_account_sid, settings.twilio_auth_token
    if not sid or token is None:
        raise MediaUnavailable("not_configured")
    if not _twilio_url_ok(url, sid):
        log.warning("a WhatsApp media URL outside this Twilio account was not fetched")
        raise MediaUnavailable("gone")
    target = rewrite_url(url, settings.twilio_api_base_url)
    auth = httpx.BasicAuth(sid, token.get_secret_value())
    try:
        async with (
            httpx.AsyncClient(auth=auth, follow_redirects=True, timeout=FETCH_TIMEOUT) as client,
            client.stream("GET", target) as response,
        ):
            if response.status_code in (403, 404, 410):
                raise MediaUnavailable("gone")
            if response.status_code != 200:
                raise MediaUnavailable("unavailable")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > MAX_MEDIA_BYTES:
                    raise MediaUnavailable("too_large")
                chunks.append(chunk)
            content_type = response.headers.get("content-type")
    except httpx.HTTPError as exc:
        log.warning("a Twilio file could not be fetched", extra={"error": type(exc).__name__})
        raise MediaUnavailable("unavailable") from None
    return FetchedMedia(b"".join(chunks), content_type)
