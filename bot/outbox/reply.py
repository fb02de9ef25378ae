"""A reply as the conversation engine writes it and the senders show it: its text, the
options shown with it, and the options rendered as numbered lines (WhatsApp, SMS,
terminal)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.outbox.enums import Purpose


@dataclass(frozen=True, slots=True)
class Choice:
    """An option shown with a message: the number to type, its label, a button payload."""

    key: str
    label: str
    payload: str


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    choices: tuple[Choice, ...] = ()
    #: The outbox row's purpose: ``reply``, or ``crisis`` (crisis lines, sent ahead of the
    #: person's earlier messages still waiting or failing: ``bot.delivery.claims``).
    purpose: Purpose = Purpose.REPLY


def as_text(reply: Reply) -> str:
    if not reply.choices:
        return reply.text
    options = "\n".join(f"{c.key}. {c.label}" for c in reply.choices)
    return f"{reply.text}\n\n{options}"
