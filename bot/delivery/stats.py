"""Delivery metrics, in the process registry (``bot.observability``, rendered at /metrics).

Labels are channels, outcomes, purposes and error codes (``telegram.403``,
``twilio.21610``): never a chat id, number or text.
"""

from __future__ import annotations

from bot.observability import metrics

#: sent, retry, failed, unreachable, opted_out, held, resent (after an interrupted attempt),
#: answered_in_webhook (a button press answered in the webhook's response)
MESSAGES_OUT = metrics.counter(
    "bot_messages_out_total",
    "Outbound messages by channel and outcome (sent, retry, failed, unreachable, opted_out, "
    "held, resent, answered_in_webhook).",
    ("channel", "outcome"),
)
SEND_FAILURES = metrics.counter(
    "bot_send_failures_total",
    "Failed send attempts by channel and error code (retried or not).",
    ("channel", "code"),
)
MESSAGES_HELD = metrics.counter(
    "bot_messages_held_total",
    "WhatsApp messages held outside the 24-hour window (no template for their purpose).",
    ("channel", "purpose"),
)
UNSENDABLE = metrics.gauge(
    "bot_outbox_unconfigured_channel",
    "1 while messages wait for a channel this process has no credentials for.",
    ("channel",),
)


def outcome(channel: str, name: str) -> None:
    MESSAGES_OUT.inc(channel=channel, outcome=name)


def failure(channel: str, code: str) -> None:
    SEND_FAILURES.inc(channel=channel, code=code)


def held(channel: str, purpose: str) -> None:
    MESSAGES_HELD.inc(channel=channel, purpose=purpose)
