"""What every sender shares: the message to send, the send plan, and classified failures
(``SendError``; what each ``Failure`` means is :mod:`bot.outbox.failures`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Generic, TypeVar

from bot.delivery.claims import KeptReceipts
from bot.delivery.ratelimit import ChannelLimits, RetryPolicy
from bot.outbox.failures import Failure
from bot.outbox.reply import Choice

P = TypeVar("P")

#: Longest a platform call may take (connect, send, read) before it counts as failed and is
#: retried later: a hung call never holds an alert or a crisis reply for longer.
SEND_TIMEOUT = 4.0


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One outbox row ready to send. ``recipient`` is the decrypted chat id or
    ``whatsapp:+…`` address: keep it out of logs, errors and metrics. ``window_from`` is
    when the person last wrote (the WhatsApp 24-hour window)."""

    id: int
    channel: str
    recipient: str
    purpose: str
    text: str
    choices: tuple[Choice, ...]
    created_at: datetime
    window_from: datetime | None


class SendError(Exception):
    """A failed send, classified. ``code`` is short and free of personal data
    (``telegram.403``, ``twilio.21610``): it goes to the row's ``error``, logs and metrics.
    ``detail`` (the platform's description, scrubbed) is kept with the row, never a label.
    ``retry_after`` is the platform's own wait; ``channel_wide`` pauses the whole channel."""

    def __init__(
        self,
        failure: Failure,
        code: str,
        *,
        retry_after: float | None = None,
        channel_wide: bool = False,
        detail: str | None = None,
    ) -> None:
        super().__init__(code)
        self.failure = failure
        self.code = code
        self.detail = detail
        self.retry_after = retry_after
        self.channel_wide = channel_wide

    @property
    def error(self) -> str:
        """What the row's ``error`` column keeps."""
        return f"{self.code}: {self.detail}" if self.detail else self.code


class Sender(ABC, Generic[P]):
    """A channel's sender. ``plan`` turns a message into parts (or raises ``SendError``
    with ``HOLD``/``PERMANENT``); ``send`` sends one part and returns the provider's id."""

    channel: str
    limits: ChannelLimits
    retry: RetryPolicy = RetryPolicy()
    #: The channel's delivery receipts that may come before a send is recorded (None: none).
    receipts: ClassVar[KeptReceipts | None] = None

    @abstractmethod
    def plan(self, msg: Outgoing, now: datetime) -> Sequence[P]: ...

    @abstractmethod
    async def send(self, msg: Outgoing, part: P) -> str | None: ...

    @abstractmethod
    async def close(self) -> None: ...
