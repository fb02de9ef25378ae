"""Plain-text rendering of a reply with numbered options (WhatsApp, SMS, terminal)."""

from __future__ import annotations

from bot.flows.types import Reply


def as_text(reply: Reply) -> str:
    if not reply.choices:
        return reply.text
    options = "\n".join(f"{c.key}. {c.label}" for c in reply.choices)
    return f"{reply.text}\n\n{options}"
