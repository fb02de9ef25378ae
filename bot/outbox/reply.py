"""A reply as the conversation engine writes it and the senders show it: its text, the
options shown with it, and the options rendered as numbered lines (WhatsApp, SMS,
terminal)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Choice:
    """An option shown with a message: the number to type, its label, a button payload."""

    key: str
    label: str
    payload: str


#: The purpose of a reply that answers crisis words (crisis lines): the outbox sends it
#: ahead of the person's earlier messages still waiting or failing (``bot.delivery.claims``).
CRISIS_REPLY = "crisis"


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    choices: tuple[Choice, ...] = ()
    #: The outbox row's purpose: ``reply``, or ``crisis`` (``CRISIS_REPLY``).
    purpose: str = "reply"


def as_text(reply: Reply) -> str:
    if not reply.choices:
        return reply.text
    options = "\n".join(f"{c.key}. {c.label}" for c in reply.choices)
    return f"{reply.text}\n\n{options}"
