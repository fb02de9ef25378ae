"""WhatsApp through Twilio: the twilio SDK's ``Client`` at ``TWILIO_API_BASE_URL``.

Options are numbered text (as in the simulator), or ``twilio/quick-reply`` buttons when a
Content SID is configured for the message's purpose and number of options
(``TWILIO_QUICK_REPLY_SIDS``). Texts over 1,600 characters are split at line breaks.
Outside the 24-hour window (see :mod:`bot.outbox.window`) a template is sent or the
message is held.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from typing_extensions import Unpack

from bot.channels.twilio.sender import TwilioOptions, TwilioSender
from bot.delivery.ratelimit import WHATSAPP_LIMITS
from bot.delivery.sender import Outgoing, SendError
from bot.delivery.text import split_text, units
from bot.outbox.enums import Channel
from bot.outbox.failures import Failure
from bot.outbox.reply import Reply, as_text
from bot.outbox.window import decide

CHANNEL = Channel.WHATSAPP
ADDRESS_PREFIX = "whatsapp:"
MAX_BODY = 1600
#: A quick reply's body and a button title (WhatsApp limits).
MAX_QUICK_REPLY_BODY = 1024
MAX_BUTTON_TITLE = 20
#: The text put into a template's ``{{1}}``: template and variables share 1,024 characters.
MAX_TEMPLATE_TEXT = 700


@dataclass(frozen=True, slots=True)
class WhatsAppPart:
    body: str | None = None
    content_sid: str | None = None
    variables: dict[str, str] = field(default_factory=dict)


def plan_message(
    msg: Outgoing,
    now: datetime,
    templates: Mapping[str, str],
    quick_replies: Mapping[str, str],
) -> list[WhatsAppPart]:
    decision = decide(msg.purpose, msg.window_from, now, templates)
    if decision.mode == "hold":
        raise SendError(Failure.HOLD, "window.closed")
    if decision.mode == "template":
        return [
            WhatsAppPart(
                content_sid=decision.content_sid, variables={"1": template_variable(msg.text)}
            )
        ]
    quick = quick_reply(msg, quick_replies)
    if quick is not None:
        return [quick]
    text = as_text(Reply(msg.text, msg.choices))
    return [WhatsAppPart(body=part) for part in split_text(text, MAX_BODY)]


def quick_reply(msg: Outgoing, quick_replies: Mapping[str, str]) -> WhatsAppPart | None:
    """The ``twilio/quick-reply`` for ``msg`` if one is configured and the message fits."""
    sid = quick_replies.get(f"{msg.purpose}:{len(msg.choices)}")
    if not sid or not msg.choices or units(msg.text) > MAX_QUICK_REPLY_BODY:
        return None
    if any(not 1 <= units(c.label) <= MAX_BUTTON_TITLE for c in msg.choices):
        return None
    variables = {"1": msg.text}
    for index, choice in enumerate(msg.choices):
        variables[str(2 + 2 * index)] = choice.label
        variables[str(3 + 2 * index)] = choice.payload
    return WhatsAppPart(content_sid=sid, variables=variables)


def template_variable(text: str) -> str:
    """``text`` as a template variable: WhatsApp refuses new lines, tabs and runs of spaces
    in one, and the template with its variables must stay within 1,024 characters."""
    lines = (" ".join(line.split()) for line in text.splitlines())
    flat = " · ".join(line for line in lines if line)
    if units(flat) <= MAX_TEMPLATE_TEXT:
        return flat
    return split_text(flat, MAX_TEMPLATE_TEXT - 1)[0] + "…"


class WhatsAppSender(TwilioSender[WhatsAppPart]):
    channel = CHANNEL
    limits = WHATSAPP_LIMITS

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_: str,
        base_url: str | None,
        *,
        templates: Mapping[str, str] | None = None,
        quick_replies: Mapping[str, str] | None = None,
        **options: Unpack[TwilioOptions],
    ) -> None:
        """The account and options as for :class:`TwilioSender`; ``from_`` may omit the
        ``whatsapp:`` prefix. ``templates`` and ``quick_replies``: Content SIDs by purpose."""
        super().__init__(account_sid, auth_token, from_, base_url, **options)
        if not self.from_.startswith(ADDRESS_PREFIX):
            self.from_ = ADDRESS_PREFIX + self.from_
        self.templates = dict(templates or {})
        self.quick_replies = dict(quick_replies or {})

    def plan(self, msg: Outgoing, now: datetime) -> list[WhatsAppPart]:
        return plan_message(msg, now, self.templates, self.quick_replies)

    async def send(self, msg: Outgoing, part: WhatsAppPart) -> str | None:
        to = (
            msg.recipient
            if msg.recipient.startswith(ADDRESS_PREFIX)
            else ADDRESS_PREFIX + msg.recipient
        )
        kwargs: dict[str, Any] = {"to": to, "from_": self.from_}
        if self.status_callback:
            kwargs["status_callback"] = self.status_callback
        if part.content_sid:
            kwargs["content_sid"] = part.content_sid
            kwargs["content_variables"] = json.dumps(part.variables, ensure_ascii=False)
        else:
            kwargs["body"] = part.body
        return await self.create(**kwargs)
