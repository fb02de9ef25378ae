"""What the WhatsApp and SMS senders share: one Twilio client for the account, the sender's
address and status callback, the send call and its failures classified by Twilio's code."""

from __future__ import annotations

import logging
from typing import Any, ClassVar, TypedDict, TypeVar

from twilio.base.exceptions import TwilioException, TwilioRestException

from bot.channels.twilio import receipts
from bot.channels.twilio.errors import failure_for_code
from bot.channels.twilio.http import TwilioTransportError, make_async_twilio_client
from bot.delivery.claims import KeptReceipts
from bot.delivery.sender import SEND_TIMEOUT, Sender, SendError
from bot.outbox.failures import Failure

log = logging.getLogger(__name__)

P = TypeVar("P")


class TwilioOptions(TypedDict, total=False):
    """``TwilioSender``'s keyword options, for subclasses that add their own."""

    status_callback: str | None
    timeout: float


class TwilioSender(Sender[P]):
    """A sender through Twilio's Messages API (the async twilio SDK client at
    ``TWILIO_API_BASE_URL``); ``status_callback`` is where Twilio reports each message's fate."""

    receipts: ClassVar[KeptReceipts | None] = receipts

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

    async def create(self, **kwargs: Any) -> str | None:
        """Send one message (``messages.create``); returns its SID or raises ``SendError``."""
        try:
            message = await self.client.messages.create_async(**kwargs)
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


def classify(exc: TwilioRestException) -> SendError:
    """A Twilio error as a ``SendError``, by its code only (Twilio's messages may quote the
    phone number)."""
    code = exc.code if isinstance(exc.code, int) else None
    status = int(exc.status or 0)
    name = f"twilio.{code or status}"
    failure = failure_for_code(code)
    if status == 429 or failure is Failure.RETRY:
        return SendError(Failure.RETRY, name, channel_wide=True)
    if failure is not None:
        return SendError(failure, name)
    if status >= 500:
        return SendError(Failure.RETRY, name)
    if status in (401, 403):
        log.error("Twilio refused our credentials; check TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN")
        return SendError(Failure.RETRY, name)
    return SendError(Failure.PERMANENT, name)
