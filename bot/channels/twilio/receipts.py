"""Twilio status callbacks (delivery receipts) applied to the outbox.

Each WhatsApp and SMS message is sent with a ``StatusCallback`` URL
(``POST /webhooks/twilio/status``), where Twilio reports what became of it after accepting
it: ``delivered`` or ``read``, or ``failed`` / ``undelivered`` with an error code. WhatsApp
often reports 63016 (outside the 24-hour window) only this way. So a ``sent`` row becomes:

- ``delivered``;
- ``held`` on 63016, like the same error at send time (released when the person writes
  again, ``bot.outbox.window``); an alert to staff is ``failed`` instead, so escalation
  sends it again on the psychologist's next channel (``bot.escalation.timers``);
- ``failed`` on any other failure, the person marked opted out (21610) or unreachable as at
  send time. Nothing is sent again: the message may have reached the phone.

Statuses only move forward from ``sent``: a replay, a late ``sent`` or a ``read`` after
``delivered`` changes nothing. A receipt can come before the dispatcher has recorded the
send (the message's id is not known yet): it is kept in ``delivery_receipt`` and applied in
the transaction that records the send (:func:`apply_kept`; on PostgreSQL an advisory lock
on the message id makes one of the two see the other). Kept receipts that never match
(about an earlier part of a split message, whose id is not kept) go after a day.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, insert, select, text, update

from bot.channels.twilio.errors import failure_for_code
from bot.db.models import DeliveryReceipt, OutboundMessage
from bot.db.tables import table_of
from bot.observability import metrics
from bot.outbox.enums import OutboxStatus
from bot.outbox.failures import Failure
from bot.outbox.person_marks import mark_person, marks_person

#: Where Twilio posts the receipts (``bot.channels.twilio.status``); the senders give it to
#: Twilio.
STATUS_CALLBACK_PATH = "/webhooks/twilio/status"
DELIVERED = frozenset({"delivered", "read"})
FAILED = frozenset({"failed", "undelivered"})
KEEP_FOR = timedelta(days=1)
MAX_ID = 64

_OUT: Table = table_of(OutboundMessage)
_RECEIPTS: Table = table_of(DeliveryReceipt)
#: The advisory locks of receipts: (this space, a hash of the message id); the two-key form
#: keeps them apart from the per-person locks of ``bot.flows.service``.
_LOCK_SPACE = 0x52435054  # "RCPT"
_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(:space, :key)")

RECEIPTS = metrics.counter(
    "bot_delivery_receipts_total",
    "Twilio status callbacks by outcome (delivered, held, failed, opted_out, unreachable, "
    "kept: its message not yet known, ignored: nothing to change).",
    ("outcome",),
)


@dataclass(frozen=True, slots=True)
class Receipt:
    """What Twilio said about one message: its id, status and error code, if any."""

    provider_message_id: str
    status: str
    error_code: int | None = None

    @property
    def final(self) -> bool:
        """Whether it says something we act on (not ``queued``, ``sent``, ``sending``…)."""
        return self.status in DELIVERED or self.status in FAILED


#: The callback's fields a receipt is read from (``To`` and ``From`` are not).
FIELDS = ("MessageSid", "SmsSid", "MessageStatus", "SmsStatus", "ErrorCode")


def parse(fields: Mapping[str, str]) -> Receipt | None:
    """A receipt from the callback's form fields; None if they do not make one."""
    sid = fields.get("MessageSid") or fields.get("SmsSid") or ""
    status = (fields.get("MessageStatus") or fields.get("SmsStatus") or "").lower()
    code = fields.get("ErrorCode") or ""
    if not sid or len(sid) > MAX_ID or not status or len(status) > 16:
        return None
    return Receipt(sid, status, int(code) if _is_error_code(code) else None)


#: Twilio's error codes have five digits; a longer "code" (which the database's integer
#: column could not hold) is not one.
MAX_CODE_DIGITS = 9


def _is_error_code(code: str) -> bool:
    return code.isascii() and code.isdigit() and len(code) <= MAX_CODE_DIGITS


def lock_message(conn: Connection, provider_message_id: str) -> None:
    """PostgreSQL: serialise the receipt of a message and the recording of its send, so
    that one of them sees the other (SQLite serialises every write transaction already)."""
    if conn.dialect.name == "postgresql":
        digest = hashlib.sha256(provider_message_id.encode()).digest()
        key = int.from_bytes(digest[:4], "big", signed=True)
        conn.execute(_ADVISORY_LOCK, {"space": _LOCK_SPACE, "key": key})


def record(db: Engine, receipt: Receipt, now: datetime) -> str:
    """Apply ``receipt`` to its message, or keep it until the message's send is recorded.
    Returns the outcome (a label of ``bot_delivery_receipts_total``)."""
    if not receipt.final:
        outcome = "ignored"
    else:
        with db.begin() as conn:
            lock_message(conn, receipt.provider_message_id)
            applied = _apply(conn, receipt, now)
            if applied is None:
                conn.execute(delete(_RECEIPTS).where(_RECEIPTS.c.received_at < now - KEEP_FOR))
                conn.execute(
                    insert(_RECEIPTS).values(
                        provider_message_id=receipt.provider_message_id,
                        status=receipt.status,
                        error_code=receipt.error_code,
                        received_at=now,
                    )
                )
            outcome = applied or "kept"
    RECEIPTS.inc(outcome=outcome)
    return outcome


def apply_kept(conn: Connection, provider_message_id: str, now: datetime) -> None:
    """Apply the receipts kept for a message whose send is being recorded on ``conn``
    (call ``lock_message`` first, before the send is written)."""
    kept = conn.execute(
        select(_RECEIPTS.c.id, _RECEIPTS.c.status, _RECEIPTS.c.error_code)
        .where(_RECEIPTS.c.provider_message_id == provider_message_id)
        .order_by(_RECEIPTS.c.id)
    ).all()
    if not kept:
        return
    for _, status, error_code in kept:
        # The message was just written on ``conn``, so _apply finds it; were it gone, the
        # receipt (deleted below) changed nothing.
        applied = _apply(conn, Receipt(provider_message_id, status, error_code), now)
        RECEIPTS.inc(outcome=applied or "ignored")
    conn.execute(delete(_RECEIPTS).where(_RECEIPTS.c.id.in_([row[0] for row in kept])))


def _apply(conn: Connection, receipt: Receipt, now: datetime) -> str | None:
    """The receipt's effect on its message; None if no message has its id."""
    message = conn.execute(
        select(_OUT.c.id, _OUT.c.participant_id).where(
            _OUT.c.provider_message_id == receipt.provider_message_id
        )
    ).first()
    if message is None:
        return None
    row_id, participant_id = message
    if receipt.status in DELIVERED:
        return "delivered" if _move(conn, row_id, status=OutboxStatus.DELIVERED) else "ignored"
    code = receipt.error_code
    error = f"twilio.{code if code is not None else receipt.status}"
    failure = failure_for_code(code)
    if failure is Failure.HOLD and participant_id is not None:
        return "held" if _move(conn, row_id, status=OutboxStatus.HELD, error=error) else "ignored"
    if not _move(conn, row_id, status=OutboxStatus.FAILED, error=error):
        return "ignored"
    mark_person(conn, participant_id, failure, now)
    return str(failure) if marks_person(failure) and participant_id is not None else "failed"


def _move(conn: Connection, row_id: int, **values: Any) -> bool:
    """Change a ``sent`` row; False if it is in any other state (nothing to change)."""
    result = conn.execute(
        update(_OUT).where(_OUT.c.id == row_id, _OUT.c.status == OutboxStatus.SENT).values(**values)
    )
    return bool(result.rowcount == 1)
