"""SMS through Twilio, for alerts to on-call psychologists (the last fallback after Telegram
and WhatsApp). Plain text: options are not sent (the psychologist acknowledges in Telegram
or on the dashboard). Texts over 1,600 characters are split at line breaks."""

from __future__ import annotations

from datetime import datetime

from twilio.base import values

from bot.channels.twilio.sender import TwilioSender
from bot.delivery.ratelimit import ChannelLimits
from bot.delivery.sender import Outgoing
from bot.delivery.text import split_text
from bot.outbox.enums import Channel

CHANNEL = Channel.SMS
MAX_BODY = 1600
#: Twilio queues SMS per sender number; a long code sends about one message a second.
SMS_LIMITS = ChannelLimits(per_chat_rate=1.0, per_chat_burst=3, global_rate=1.0, global_burst=5)


class SmsSender(TwilioSender[str]):
    channel = CHANNEL
    limits = SMS_LIMITS

    def plan(self, msg: Outgoing, now: datetime) -> list[str]:
        return split_text(msg.text, MAX_BODY)

    async def send(self, msg: Outgoing, part: str) -> str | None:
        return await self.create(
            to=msg.recipient,
            from_=self.from_,
            body=part,
            status_callback=self.status_callback or values.unset,
        )
