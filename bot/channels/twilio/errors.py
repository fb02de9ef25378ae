"""What a Twilio error code means for a message, wherever Twilio reports it: in the answer
to sending it (``bot.channels.twilio.sender``) or later, in a status callback
(``bot.channels.twilio.receipts``)."""

from __future__ import annotations

from bot.outbox.failures import Failure

OPTED_OUT_CODES = frozenset({21610})
UNREACHABLE_CODES = frozenset({21211, 21614})
OUTSIDE_WINDOW_CODES = frozenset({63016})
RATE_LIMIT_CODES = frozenset({20429, 63018})


def failure_for_code(code: int | None) -> Failure | None:
    """The failure a code says for certain (opted out, unreachable, outside the window, rate
    limited); None for any other code, which the caller classifies by its context."""
    if code in OPTED_OUT_CODES:
        return Failure.OPTED_OUT
    if code in UNREACHABLE_CODES:
        return Failure.UNREACHABLE
    if code in OUTSIDE_WINDOW_CODES:
        return Failure.HOLD
    if code in RATE_LIMIT_CODES:
        return Failure.RETRY
    return None
