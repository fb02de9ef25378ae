"""Queueing a message: the one place an outbox row (``outbound_message``) is built.

A message is queued in the transaction that decided it (a conversation step, an escalation
action, a waiting timer) and sent after it commits by the dispatcher (``bot.delivery``), in
id order per recipient. :func:`outbox_row` builds the row; :func:`enqueue` writes one
through an ORM session, :func:`enqueue_many` a step's replies with one prebuilt INSERT.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, insert
from sqlmodel import Session

from bot.crypto import Cipher
from bot.db.models import OutboundMessage, Participant
from bot.db.tables import table_of
from bot.outbox.enums import OutboxStatus, Purpose
from bot.outbox.reply import Choice

_OUT: Table = table_of(OutboundMessage)
#: Built once: every conversation step queues its replies with it (several rows at once).
_INSERT = insert(_OUT).returning(_OUT.c.id, sort_by_parameter_order=True)


@dataclass(slots=True)  # not frozen: one is built every step, and frozen takes 3x as long
class Recipient:
    """Who a message goes to: the ``hash`` of their address (the dispatcher's order and rate
    limits go by it), the address encrypted (``enc``; None: there is nothing to send to), and
    the person, if it is one (None: staff, or a person who is gone)."""

    channel: str
    hash: str
    enc: str | None
    participant_id: int | None = None

    @classmethod
    def person(cls, person: Participant) -> Recipient:
        return cls(person.channel, person.external_hash, person.external_enc, person.id)

    @classmethod
    def address(cls, cipher: Cipher, channel: str, address: str) -> Recipient:
        """Someone known by their address alone (a member of staff): hashed and encrypted."""
        return cls(channel, cipher.lookup_hash(channel, address), cipher.encrypt(address))


def outbox_row(
    to: Recipient,
    text: str,
    now: datetime,
    *,
    purpose: Purpose = Purpose.REPLY,
    choices: Iterable[Choice | Mapping[str, str]] = (),
    shown: bool = False,
) -> dict[str, Any]:
    """The outbox row of a message to send from ``now`` (its every column but the id).
    ``shown``: the person saw it already (the simulator shows replies at once): it is kept
    as sent, without the address."""
    return {
        "participant_id": to.participant_id,
        "channel": to.channel,
        "recipient_hash": to.hash,
        "recipient_enc": None if shown else to.enc,
        "purpose": purpose,
        "text": text,
        "choices": [
            {"key": c.key, "label": c.label, "payload": c.payload}
            if isinstance(c, Choice)
            else dict(c)
            for c in choices
        ],
        "status": OutboxStatus.SENT if shown else OutboxStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "provider_message_id": None,
        "error": None,
        "created_at": now,
        "sent_at": now if shown else None,
    }


def enqueue(
    session: Session,
    to: Recipient,
    text: str,
    now: datetime,
    *,
    purpose: Purpose,
    choices: Iterable[Choice | Mapping[str, str]] = (),
) -> int:
    """Queue one message in ``session``'s transaction (flushed: it has its id); its id."""
    row = OutboundMessage(**outbox_row(to, text, now, purpose=purpose, choices=choices))
    session.add(row)
    session.flush()
    assert row.id is not None
    return row.id


def enqueue_many(conn: Connection, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Queue the rows built by :func:`outbox_row` in ``conn``'s transaction, in their order;
    their ids."""
    if not rows:
        return []
    return [int(i) for i in conn.execute(_INSERT, list(rows)).scalars()]
