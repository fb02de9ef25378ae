"""The WhatsApp customer-service window: 24 hours from the person's last message.

Inside it any message may be sent. Outside it WhatsApp accepts only an approved template
(Twilio error 63016 otherwise): purposes that may reach out on their own (a follow-up, a
psychologist's message) use the template configured for them, with the message text as its
variable ``{{1}}``; any other message, or one whose template is not configured, is *held*
(status ``held``), logged, counted and listed by :func:`held_messages` for the dashboard.
When the person writes again, their held follow-ups and psychologists' messages are queued
again, ahead of the reply to that message (:func:`release_held`, in its step).
A message to staff (no participant: an alert) is failed instead of held, so escalation
tries the psychologist's next channel at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import Connection, Engine, Table, bindparam, update
from sqlmodel import Session, col, select

from bot.db.models import OutboundMessage
from bot.db.tables import table_of
from bot.observability import metrics
from bot.outbox.enums import Channel, OutboxStatus, Purpose
from bot.settings import Settings

WINDOW = timedelta(hours=24)
#: How far Twilio's idea of the window's end may come before ours (clock skew, its own
#: receipt time): a person who writes after that may have messages Twilio held (63016).
TWILIO_CLOCK_SLACK = timedelta(hours=1)
#: Channels with a window, where messages can be held.
HOLDING_CHANNELS = frozenset({Channel.WHATSAPP})
#: A message is not sent free-form in the window's last minute: it could arrive after it.
SAFETY_MARGIN = timedelta(minutes=1)

FOLLOWUP_PURPOSES = frozenset({Purpose.FOLLOWUP})
#: Messages a psychologist writes to the person (``bot.escalation.service``, the dashboard).
PSYCHOLOGIST_PURPOSES = frozenset(
    {Purpose.PSYCHOLOGIST_MESSAGE, Purpose.PSYCHOLOGIST, Purpose.PSYCHOLOGIST_REPLY, Purpose.STAFF}
)
#: Alerts to on-call staff (``bot.escalation.notify``): a case, or a person's message relayed.
ALERT_PURPOSES = frozenset({Purpose.ALERT, Purpose.RELAY})
#: Held messages sent once the person writes again (their window reopens): those written to
#: reach out on their own. Others held (an answer whose moment has passed) stay held.
RELEASED_ON_RETURN = FOLLOWUP_PURPOSES | PSYCHOLOGIST_PURPOSES
#: Rows without a person (staff, or a person who erased their data) whose purpose is to
#: answer a message just received: their own time stands in for the window's start.
ANSWER_PURPOSES = frozenset(
    {Purpose.REPLY, Purpose.STAFF_REPLY, Purpose.CALLBACK_ANSWER, Purpose.FAREWELL}
)

MESSAGES_RELEASED = metrics.counter(
    "bot_messages_released_total",
    "Held WhatsApp messages queued again because the person wrote (their window reopened).",
    ("channel",),
)

_OUT: Table = table_of(OutboundMessage)
#: Built once: it runs in the conversation step of every person who may have held messages.
_RELEASE_HELD = (
    update(_OUT)
    .where(
        _OUT.c.participant_id == bindparam("b_person"),
        _OUT.c.status == OutboxStatus.HELD,
        _OUT.c.purpose.in_(sorted(RELEASED_ON_RETURN)),
    )
    .values(status=OutboxStatus.PENDING, next_attempt_at=bindparam("b_now"), error=None)
    .returning(_OUT.c.id)
)


@dataclass(frozen=True, slots=True)
class WindowDecision:
    """How a WhatsApp message may go: ``free`` (any text), ``template`` (``content_sid``),
    or ``hold`` (not at all, for now)."""

    mode: Literal["free", "template", "hold"]
    content_sid: str | None = None


def templates_from_settings(settings: Settings) -> dict[str, str]:
    """Purpose → approved template content SID, for the templates that are configured."""
    templates: dict[str, str] = {}
    if settings.twilio_template_followup_sid:
        templates.update(dict.fromkeys(FOLLOWUP_PURPOSES, settings.twilio_template_followup_sid))
    if settings.twilio_template_psychologist_sid:
        sid = settings.twilio_template_psychologist_sid
        templates.update(dict.fromkeys(PSYCHOLOGIST_PURPOSES, sid))
    if settings.twilio_template_alert_sid:
        templates.update(dict.fromkeys(ALERT_PURPOSES, settings.twilio_template_alert_sid))
    return templates


def window_start(
    participant_id: int | None, last_inbound_at: datetime | None, purpose: str, created_at: datetime
) -> datetime | None:
    """When the window of a row's recipient opened, as far as we know: the person's last
    message; for a row without a person, its own time if it answers a message just
    received, else unknown (closed: only a template may go)."""
    if participant_id is not None:
        return last_inbound_at
    return created_at if purpose in ANSWER_PURPOSES else None


def window_open(last_inbound_at: datetime | None, now: datetime) -> bool:
    """Whether a free-form message sent ``now`` falls inside the window."""
    if last_inbound_at is None:
        return False
    return now < last_inbound_at + WINDOW - SAFETY_MARGIN


def may_have_held(last_inbound_at: datetime | None, now: datetime) -> bool:
    """Whether a person who last wrote at ``last_inbound_at`` can have held messages at
    ``now``: once their window closed by our clock, or by Twilio's (``TWILIO_CLOCK_SLACK``
    earlier: its 63016 wins over our clock)."""
    if last_inbound_at is None:
        return True
    return now >= last_inbound_at + WINDOW - TWILIO_CLOCK_SLACK


def decide(
    purpose: str,
    last_inbound_at: datetime | None,
    now: datetime,
    templates: Mapping[str, str],
) -> WindowDecision:
    if window_open(last_inbound_at, now):
        return WindowDecision("free")
    sid = templates.get(purpose)
    if sid:
        return WindowDecision("template", sid)
    return WindowDecision("hold")


@dataclass(frozen=True, slots=True)
class HeldMessage:
    """A held message, without its recipient (the dashboard shows the person by id)."""

    id: int
    participant_id: int | None
    channel: str
    purpose: str
    reason: str | None
    created_at: datetime


def held_messages(
    db: Engine, *, participant_id: int | None = None, limit: int = 100
) -> list[HeldMessage]:
    """Messages held outside the WhatsApp window, newest first."""
    query = select(OutboundMessage).where(OutboundMessage.status == OutboxStatus.HELD)
    if participant_id is not None:
        query = query.where(OutboundMessage.participant_id == participant_id)
    query = query.order_by(col(OutboundMessage.id).desc()).limit(limit)
    with Session(db) as session:
        rows = session.exec(query).all()
    return [
        HeldMessage(
            id=row.id or 0,
            participant_id=row.participant_id,
            channel=row.channel,
            purpose=row.purpose,
            reason=row.error,
            created_at=row.created_at,
        )
        for row in rows
    ]


def release_held(conn: Connection, participant_id: int, now: datetime) -> list[int]:
    """Queue again the person's held messages that may go once their window reopens (in the
    step that records their message, before its replies: lower ids go first); their ids."""
    result = conn.execute(_RELEASE_HELD, {"b_person": participant_id, "b_now": now})
    return sorted(int(i) for i in result.scalars())


def count_released(channel: str, count: int) -> None:
    MESSAGES_RELEASED.inc(count, channel=channel)
