"""The registry of senders: one per configured channel (a channel without its token or SID has
none). The worker's outbox loops build theirs with it (``bot.worker.build_workers``)."""

from __future__ import annotations

import logging
from typing import Any

from bot.delivery.sender import Sender
from bot.outbox.enums import Channel
from bot.outbox.window import templates_from_settings
from bot.settings import Settings

log = logging.getLogger(__name__)


def build_senders(settings: Settings) -> dict[str, Sender[Any]]:
    """Senders for the channels whose credentials are set. Builds HTTP clients: call it on
    the event loop that will use them, and ``close()`` them there."""
    senders: dict[str, Sender[Any]] = {}
    if settings.telegram_bot_token is not None:
        from bot.channels.telegram.sender import TelegramSender

        senders[Channel.TELEGRAM] = TelegramSender(
            settings.telegram_bot_token.get_secret_value(), settings.telegram_api_base_url
        )
    from bot.channels.twilio.receipts import STATUS_CALLBACK_PATH

    # Twilio reports each message's fate there (bot.channels.twilio.receipts).
    status_callback = settings.public_base_url + STATUS_CALLBACK_PATH
    sid, token, from_ = (
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        settings.twilio_whatsapp_from,
    )
    if sid and token and from_:
        from bot.channels.whatsapp.sender import WhatsAppSender

        senders[Channel.WHATSAPP] = WhatsAppSender(
            sid,
            token.get_secret_value(),
            from_,
            settings.twilio_api_base_url,
            templates=templates_from_settings(settings),
            quick_replies=settings.twilio_quick_reply_sids,
            status_callback=status_callback,
        )
    elif sid or token or from_:
        log.warning(
            "WhatsApp is not configured: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
            "TWILIO_WHATSAPP_FROM are all needed"
        )
    if sid and token and settings.twilio_sms_from:  # alerts to on-call psychologists
        from bot.channels.twilio.sms import SmsSender

        senders[Channel.SMS] = SmsSender(
            sid,
            token.get_secret_value(),
            settings.twilio_sms_from,
            settings.twilio_api_base_url,
            status_callback=status_callback,
        )
    return senders
