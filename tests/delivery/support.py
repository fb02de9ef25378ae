"""Helpers for the delivery tests: a controllable clock, people and outbox rows."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.crypto import Cipher, new_pseudonym
from bot.db.models import OutboundMessage, Participant
from bot.delivery.dispatcher import Dispatcher
from bot.delivery.ratelimit import ChannelLimits
from bot.delivery.sender import Sender

SECRET = "delivery-tests-secret-key-0123456789abcdef"
CIPHER = Cipher(SECRET)
START = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
#: Limits that never slow a real-clock test down.
FAST = ChannelLimits(
    per_chat_rate=1000, per_chat_burst=1000, global_rate=10_000, global_burst=10_000
)


class FakeClock:
    """``now`` for the dispatcher; ``sleep`` advances it at once instead of waiting."""

    def __init__(self, start: datetime = START) -> None:
        self.current = start
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        if seconds > 0:
            self.advance(seconds)
        await asyncio.sleep(0)


def add_person(
    db: Engine, channel: str, external_id: str, *, last_inbound_at: datetime | None = START
) -> int:
    with Session(db) as session:
        person = Participant(
            channel=channel,
            external_hash=CIPHER.lookup_hash(channel, external_id),
            external_enc=CIPHER.encrypt(external_id),
            pseudonym=new_pseudonym(),
            last_inbound_at=last_inbound_at,
            created_at=START - timedelta(days=1),
        )
        session.add(person)
        session.commit()
        assert person.id is not None
        return person.id


def queue(
    db: Engine,
    channel: str,
    external_id: str,
    texts: Iterable[str],
    *,
    participant_id: int | None,
    purpose: str = "reply",
    choices: Sequence[dict[str, str]] = (),
    at: datetime = START,
) -> list[int]:
    """Commit outbox rows, as a conversation step does (no dispatcher running)."""
    rows = [
        OutboundMessage(
            participant_id=participant_id,
            channel=channel,
            recipient_hash=CIPHER.lookup_hash(channel, external_id),
            recipient_enc=CIPHER.encrypt(external_id),
            purpose=purpose,
            text=text,
            choices=list(choices),
            next_attempt_at=at,
            created_at=at,
        )
        for text in texts
    ]
    with Session(db, expire_on_commit=False) as session:
        session.add_all(rows)
        session.commit()
    return [row.id for row in rows if row.id is not None]


def outbox(db: Engine) -> list[OutboundMessage]:
    with Session(db) as session:
        return list(session.exec(select(OutboundMessage).order_by(OutboundMessage.id)).all())  # type: ignore[arg-type]


def row(db: Engine, row_id: int) -> OutboundMessage:
    with Session(db) as session:
        found = session.get(OutboundMessage, row_id)
        assert found is not None
        return found


def person(db: Engine, participant_id: int) -> Participant:
    with Session(db) as session:
        found = session.get(Participant, participant_id)
        assert found is not None
        return found


def dispatcher(
    db: Engine,
    senders: dict[str, Sender[Any]],
    clock: FakeClock | None = None,
    **kwargs: Any,
) -> Dispatcher:
    if clock is not None:
        kwargs.setdefault("clock", clock.now)
        kwargs.setdefault("sleep", clock.sleep)
    return Dispatcher(db, CIPHER, senders, **kwargs)


async def drain(d: Dispatcher, *, clock: FakeClock | None = None, rounds: int = 500) -> None:
    """Tick until nothing the dispatcher can send is pending. With a fake clock, time jumps
    to the next due row instead of passing."""
    for _ in range(rounds):
        if await d.tick():
            continue
        due = [
            r.next_attempt_at
            for r in outbox(d.outbox.db)
            if r.status == "pending" and r.channel in d.senders
        ]
        if not due:
            return
        if clock is None:
            await asyncio.sleep(0.01)
        else:
            clock.current = max(clock.current + timedelta(seconds=0.25), min(due))
    raise AssertionError("the outbox did not drain")
