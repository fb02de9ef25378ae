"""SMS through Twilio, for alerts to on-call psychologists (the last fallback after Telegram
and WhatsApp). Plain text: options are not sent (the psychologist acknowledges in Telegram
or on the dashboard). Texts over 1,600 characters are split at line breaks."""

from __future__ import annotations

from datetime import datetime

from twilio.base import values
from twilio.base.exceptions import TwilioException, TwilioRestException

from bot.delivery.ratelimit import ChannelLimits
from bot.delivery.senders.base import SEND_TIMEOUT, Outgoing, Sender, SendError
from bot.delivery.senders.whatsapp import classify
from bot.delivery.text import split_text
from bot.delivery.twilio_http import TwilioTransportError, make_async_twilio_client
from bot.outbox.enums import Channel
from bot.outbox.failures import Failure

CHANNEL = Channel.SMS
MAX_BODY = 1600
#: Twilio queues SMS per sender number; a long code sends about one message a second.
SMS_LIMITS = ChannelLimits(per_chat_rate=1.0, per_chat_burst=3, global_rate=1.0, global_burst=5)


class SmsSender(Sender[str]):
    channel = CHANNEL
    limits = SMS_LIMITS

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_: str,
        base_url: str | None,
        *,
        status_callback: str | None = None,
        timeout: float = SEND_TIMEOUT,
    ) -> None:
        self.client = make_async_twilio_client(account_sid, auth_token, base_url, timeout=timeout)
        self.from_ = from_
        self.status_callback = status_callback

    def plan(self, msg: Outgoing, now: datetime) -> list[str]:
        return split_text(msg.text, MAX_BODY)

    async def send(self, msg: Outgoing, part: str) -> str | None:
        try:
            message = await self.client.messages.create_async(
                to=msg.recipient,
                from_=self.from_,
                body=part,
                status_callback=self.status_callback or values.unset,
            )
        except TwilioRestException as exc:
            raise classify(exc) from None
        except TwilioTransportError:
            raise SendError(Failure.RETRY, "twilio.transport") from None
        except TwilioException:
            raise SendError(Failure.RETRY, "twilio.error") from None
        sid: str | None = message.sid  # twilio is untyped: Any
        return sid

    async def close(self) -> None:
        await self.client.http_client.close()
