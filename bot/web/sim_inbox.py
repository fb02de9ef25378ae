"""The simulator's mailbox: messages queued for a simulated person after the exchange that
answered them (a psychologist's words from the dashboard or Telegram, check-ins…).

The ``sim`` channel has no sender, so such rows wait in the outbox as ``pending``. The
simulator page asks for them every few seconds; each row is handed over once and marked
``delivered`` (the dashboard then shows it as delivered), under a fenced update, so two
open tabs never both show it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Table, select, update

from bot.crypto import Cipher
from bot.db.models import OutboundMessage
from bot.db.tables import table_of
from bot.outbox.enums import Channel, OutboxStatus

CHANNEL = Channel.SIM
MAX_BATCH = 20
_OUT: Table = table_of(OutboundMessage)


@dataclass(frozen=True)
class Delivered:
    purpose: str
    text: str
    choices: list[dict[str, Any]]


def collect(db: Engine, cipher: Cipher, conversation: str, now: datetime) -> list[Delivered]:
    """The pending messages for ``conversation``, oldest first, now marked delivered."""
    recipient = cipher.lookup_hash(CHANNEL, conversation)
    query = (
        select(_OUT.c.id, _OUT.c.purpose, _OUT.c.text, _OUT.c.choices)
        .where(
            _OUT.c.channel == CHANNEL,
            _OUT.c.recipient_hash == recipient,
            _OUT.c.status == OutboxStatus.PENDING,
        )
        .order_by(_OUT.c.id)
        .limit(MAX_BATCH)
        .with_for_update(skip_locked=True)
    )
    found: list[Delivered] = []
    with db.begin() as connection:
        for row in connection.execute(query).mappings().all():
            moved = connection.execute(
                update(_OUT)
                .where(_OUT.c.id == row["id"], _OUT.c.status == OutboxStatus.PENDING)
                .values(status=OutboxStatus.DELIVERED, sent_at=now, error=None)
            )
            if moved.rowcount == 1:
                found.append(Delivered(row["purpose"], row["text"], list(row["choices"] or [])))
    return found
