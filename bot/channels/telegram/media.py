"""A file a person sent on Telegram, fetched for a psychologist (:mod:`bot.channels.media`):
``getFile`` (python-telegram-bot), then the file URL built from the Bot API base
(``…/bot`` → ``…/file/bot``); bots may download files of up to 20 MB."""

from __future__ import annotations

import logging

from telegram import Bot
from telegram.error import BadRequest, TelegramError
from telegram.request import HTTPXRequest

from bot.channels import media
from bot.settings import Settings

log = logging.getLogger(__name__)


def file_base_url(api_base_url: str) -> str:
    """The Bot API's file URL for its method URL: ``https://api.telegram.org/bot`` →
    ``https://api.telegram.org/file/bot`` (the same for a local Bot API server)."""
    base = api_base_url.rstrip("/")
    head, _, tail = base.rpartition("/")
    return f"{head}/file/{tail}"


async def from_telegram(settings: Settings, file_id: str) -> media.FetchedMedia:
    if settings.telegram_bot_token is None:
        raise media.MediaUnavailable("not_configured")
    request = HTTPXRequest(
        connection_pool_size=2,
        read_timeout=media.FETCH_TIMEOUT,
        write_timeout=media.FETCH_TIMEOUT,
        connect_timeout=3.0,
        pool_timeout=media.FETCH_TIMEOUT,
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
            if file.file_size is not None and file.file_size > media.MAX_MEDIA_BYTES:
                raise media.MediaUnavailable("too_large")
            if not file.file_path:
                raise media.MediaUnavailable("gone")
            body = bytes(await file.download_as_bytearray())
    except BadRequest as exc:
        # "file is too big" or "wrong file_id or the file is temporarily unavailable"
        too_big = "too big" in str(exc).lower()
        raise media.MediaUnavailable("too_large" if too_big else "gone") from None
    except TelegramError as exc:
        log.warning("a Telegram file could not be fetched", extra={"error": type(exc).__name__})
        raise media.MediaUnavailable("unavailable") from None
    if len(body) > media.MAX_MEDIA_BYTES:
        raise media.MediaUnavailable("too_large")
    return media.FetchedMedia(body, None)
