"""What a failed send means for its message and its recipient, whoever reports it: the
platform's answer to the send (the senders in ``bot.channels``) or, later, its status callback
(``bot.channels.twilio.receipts``). What a failure says about the person is recorded on them
(``bot.outbox.person_marks``)."""

from __future__ import annotations

from enum import StrEnum


class Failure(StrEnum):
    RETRY = "retry"  # transient (rate limit, 5xx, network): try again later
    PERMANENT = "permanent"  # this message can never be sent as it is
    UNREACHABLE = "unreachable"  # the person blocked the bot / the address is invalid
    OPTED_OUT = "opted_out"  # the person unsubscribed on the platform (Twilio 21610)
    HOLD = "hold"  # not allowed now (outside the WhatsApp window): keep it, report it
