"""The outbox's names, as the database holds them: each member is its value (``StrEnum``),
so a member and the string read back from a row compare and hash alike."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    """A messaging channel: the ``channel`` of a person, an inbox row and an outbox row."""

    TELEGRAM = "telegram"
    WHATSAPP = "whatsapp"
    #: Twilio SMS: alerts to on-call psychologists only.
    SMS = "sms"
    #: The web simulator and ``python -m bot chat``: replies are shown at once, never sent.
    SIM = "sim"


class Purpose(StrEnum):
    """Why a message is sent (``outbound_message.purpose``): the dispatcher's order
    (``bot.delivery.claims``) and the WhatsApp window's rules (``bot.outbox.window``)
    depend on it."""

    #: An answer to the person's message (the conversation engine's replies).
    REPLY = "reply"
    #: Crisis lines answering crisis words: sent ahead of the person's earlier messages
    #: still waiting or failing.
    CRISIS = "crisis"
    #: The last reply to a person who erased their data or refused consent: it has no
    #: person and is deleted once it is sent, failed or held.
    FAREWELL = "farewell"
    #: The answer to a Telegram button press (the query id as text), written by earlier
    #: versions: presses are now answered in the webhook's response
    #: (``bot.channels.telegram.webhook``).
    CALLBACK_ANSWER = "callback_answer"
    #: A message that reaches out on its own while the person waits (``bot.waiting.timers``).
    FOLLOWUP = "followup"
    #: A psychologist's message to the person (``bot.escalation.service``, the dashboard).
    PSYCHOLOGIST_MESSAGE = "psychologist_message"
    #: Held and released like a psychologist's message; not written by this version.
    PSYCHOLOGIST = "psychologist"
    PSYCHOLOGIST_REPLY = "psychologist_reply"
    STAFF = "staff"
    #: An alert about a case to an on-call psychologist (``bot.escalation.notify``).
    ALERT = "alert"
    #: A person's words relayed to the psychologist talking with them.
    RELAY = "relay"
    #: The bot's answer to a psychologist's command (``bot.escalation.staff``).
    STAFF_REPLY = "staff_reply"


class OutboxStatus(StrEnum):
    """Where a message is (``outbound_message.status``)."""

    #: To be sent (claimed or not: ``bot.delivery.claims``).
    PENDING = "pending"
    #: The platform accepted it.
    SENT = "sent"
    #: Twilio reported it delivered or read (``bot.channels.twilio.receipts``).
    DELIVERED = "delivered"
    #: It will not be sent (again).
    FAILED = "failed"
    #: Outside the WhatsApp window, with no template for its purpose: kept, and sent when the
    #: person writes again if its purpose reaches out on its own (``bot.outbox.window``).
    HELD = "held"
