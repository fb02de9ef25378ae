"""A file a person sent on WhatsApp, fetched for a psychologist (:mod:`bot.channels.media`):
an HTTP GET of the ``MediaUrl`` with the account's SID and auth token (Twilio's media URLs
require them when media authentication is on); only URLs of this account on
``api.twilio.com`` are fetched, through ``TWILIO_API_BASE_URL`` when it is set. Twilio answers
with a redirect to its storage; the credentials are not sent there."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import httpx

from bot.channels import media
from bot.channels.twilio.http import rewrite_url
from bot.settings import Settings

log = logging.getLogger(__name__)

TWILIO_HOST = "api.twilio.com"


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


async def from_twilio(settings: Settings, url: str) -> media.FetchedMedia:
    sid, token = settings.twilio_account_sid, settings.twilio_auth_token
    if not sid or token is None:
        raise media.MediaUnavailable("not_configured")
    if not _twilio_url_ok(url, sid):
        log.warning("a WhatsApp media URL outside this Twilio account was not fetched")
        raise media.MediaUnavailable("gone")
    target = rewrite_url(url, settings.twilio_api_base_url)
    auth = httpx.BasicAuth(sid, token.get_secret_value())
    try:
        async with (
            httpx.AsyncClient(
                auth=auth, follow_redirects=True, timeout=media.FETCH_TIMEOUT
            ) as client,
            client.stream("GET", target) as response,
        ):
            if response.status_code in (403, 404, 410):
                raise media.MediaUnavailable("gone")
            if response.status_code != 200:
                raise media.MediaUnavailable("unavailable")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > media.MAX_MEDIA_BYTES:
                    raise media.MediaUnavailable("too_large")
                chunks.append(chunk)
            content_type = response.headers.get("content-type")
    except httpx.HTTPError as exc:
        log.warning("a Twilio file could not be fetched", extra={"error": type(exc).__name__})
        raise media.MediaUnavailable("unavailable") from None
    return media.FetchedMedia(b"".join(chunks), content_type)
