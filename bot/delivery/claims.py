"""The outbox table as the dispatcher sees it: claims under a lease, fenced writes.

A *claim* takes due ``pending`` rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite
serialises writers with ``BEGIN IMMEDIATE``), adds one to ``attempts`` and moves
``next_attempt_at`` to the end of a *lease*, marking ``error`` "in flight"; the row stays
``pending``. Only the earliest pending row of a recipient can be claimed, so a person's
messages go one at a time, in order, even across dispatchers (callback answers, which are
not chat messages, go first and outside that queue). A crisis reply (crisis lines, purpose
``crisis``) never waits behind an ordinary message to them that was already tried (failing,
backing off, or in flight and hanging): only behind earlier crisis replies and messages not
tried yet, which go at once. If the process dies, the lease
ends and the row is due again: nothing committed is lost.

Every later write for the claim is *fenced* by ``attempts`` (the claim's token): if the
lease ran out and another dispatcher claimed the row meanwhile, a late write changes
nothing. A message split in parts records each accepted part (``provider_message_id`` =
``<last part id>#<parts sent>``) so a retry does not send them again.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    bindparam,
    case,
    delete,
    exists,
    or_,
    select,
    true,
    update,
)

from bot.db.engine import read_only
from bot.db.models import OutboundMessage, Participant
from bot.db.tables import table_of
from bot.outbox.enums import OutboxStatus, Purpose
from bot.outbox.failures import Failure
from bot.outbox.person_marks import mark_person
from bot.outbox.window import RELEASED_ON_RETURN, window_start

LEASE = timedelta(seconds=120)
IN_FLIGHT = "in flight"
#: Purposes sent first and outside the recipient's ordered queue and rate limits: the
#: answers to Telegram button presses that earlier versions queued (still sent).
UNORDERED_PURPOSES = frozenset({Purpose.CALLBACK_ANSWER})
#: Purposes claimed before every other message, button answers included (still in order
#: per recipient), and the only ones the alert dispatcher sends: every message to on-call
#: psychologists (``bot.escalation.notify``: alerts, people's words relayed to them, the
#: bot's answers to their commands), and the crisis lines sent to a person who wrote crisis
#: words. An alert must never wait behind a backlog, nor behind an earlier message to the
#: same psychologist that waits behind one.
URGENT_PURPOSES = frozenset({Purpose.ALERT, Purpose.RELAY, Purpose.STAFF_REPLY, Purpose.CRISIS})
PROGRESS_MARK = "#"
#: Outcomes after which a farewell (the last reply to a person who is gone) is deleted.
FINAL_STATUSES = frozenset({OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.HELD})

_OUT: Table = table_of(OutboundMessage)
_PEOPLE: Table = table_of(Participant)


class KeptReceipts(Protocol):
    """A platform's delivery receipts that can come before the send is recorded (Twilio's
    status callbacks): kept until then, and applied in the transaction that records it."""

    def lock_message(self, conn: Connection, provider_message_id: str) -> None:
        """Serialise the receipt of a message and the recording of its send."""

    def apply_kept(self, conn: Connection, provider_message_id: str, now: datetime) -> None:
        """Apply the receipts kept for a message whose send is being recorded on ``conn``."""


#: (channel, recipient_hash, purpose) -> seconds to wait before sending, or None: not now.
Admit = Callable[[str, str, str], "float | None"]


@dataclass(frozen=True, slots=True)
class Claim:
    """A claimed row. ``token`` is its ``attempts`` after the claim (fences later writes);
    ``interrupted``: the previous claim ended without a recorded outcome (the process died
    or the lease ran out), so the message may already have reached the person."""

    id: int
    token: int
    channel: str
    recipient_hash: str
    recipient_enc: str | None
    purpose: str
    text: str
    choices: list[dict[str, str]]
    participant_id: int | None
    created_at: datetime
    window_from: datetime | None
    parts_done: int
    interrupted: bool
    delay: float = 0.0

    @property
    def unordered(self) -> bool:
        return self.purpose in UNORDERED_PURPOSES

    @property
    def age_from(self) -> datetime:
        """Where the message's age (``RetryPolicy.max_age``) counts from: its creation; for
        one written to reach out, held and then released because the person wrote again,
        that later message (it could not go before)."""
        if (
            self.purpose in RELEASED_ON_RETURN
            and self.window_from is not None
            and self.window_from > self.created_at
        ):
            return self.window_from
        return self.created_at


def parts_done(provider_message_id: str | None) -> int:
    if not provider_message_id or PROGRESS_MARK not in provider_message_id:
        return 0
    count = provider_message_id.rsplit(PROGRESS_MARK, 1)[1]
    return int(count) if count.isdigit() else 0


class Outbox:
    def __init__(self, db: Engine, *, lease: timedelta = LEASE) -> None:
        self.db = db
        self.lease = lease

    def claim(
        self,
        channels: Collection[str],
        limit: int,
        now: datetime,
        admit: Admit,
        purposes: Collection[str] | None = None,
    ) -> list[Claim]:
        """Claim up to ``limit`` due rows of ``channels`` that ``admit`` lets go now."""
        if not channels:
            return []
        earlier = _OUT.alias("earlier")
        blocked = exists().where(
            earlier.c.channel == _OUT.c.channel,
            earlier.c.recipient_hash == _OUT.c.recipient_hash,
            earlier.c.status == OutboxStatus.PENDING,
            earlier.c.id < _OUT.c.id,
            earlier.c.purpose.not_in(UNORDERED_PURPOSES),
            # A crisis reply does not wait for an earlier message that was already tried
            # (in flight and maybe hanging, or failing and backing off): only for earlier
            # crisis replies and for messages not tried yet (they go at once, in order).
            or_(
                _OUT.c.purpose != Purpose.CRISIS,
                earlier.c.purpose == Purpose.CRISIS,
                earlier.c.attempts == 0,
            ),
        )
        unordered = _OUT.c.purpose.in_(UNORDERED_PURPOSES)
        query = (
            select(_OUT, _PEOPLE.c.last_inbound_at.label("window_from"))
            .select_from(_OUT.outerjoin(_PEOPLE, _PEOPLE.c.id == _OUT.c.participant_id))
            .where(
                _OUT.c.status == OutboxStatus.PENDING,
                _OUT.c.next_attempt_at <= now,
                _OUT.c.channel.in_(list(channels)),
                _OUT.c.purpose.in_(list(purposes)) if purposes is not None else true(),
                or_(unordered, ~blocked),
            )
            .order_by(
                case((_OUT.c.purpose.in_(URGENT_PURPOSES), 0), (unordered, 1), else_=2), _OUT.c.id
            )
            .limit(limit)
            .with_for_update(skip_locked=True, of=_OUT)
        )
        claims: list[Claim] = []
        with self.db.begin() as connection:
            for row in connection.execute(query).mappings():
                delay = admit(row["channel"], row["recipient_hash"], row["purpose"])
                if delay is None:
                    continue
                claims.append(_claim(row, delay))
            if claims:
                connection.execute(
                    update(_OUT)
                    .where(_OUT.c.id == bindparam("claimed_id"))
                    .values(
                        attempts=bindparam("token"),
                        next_attempt_at=now + self.lease,
                        error=IN_FLIGHT,
                    ),
                    [{"claimed_id": c.id, "token": c.token} for c in claims],
                )
        return claims

    def _fenced(self, claim: Claim, **values: Any) -> bool:
        with self.db.begin() as connection:
            return self._write(connection, claim, values)

    def _write(self, connection: Any, claim: Claim, values: dict[str, Any]) -> bool:
        fence = (
            _OUT.c.id == claim.id,
            _OUT.c.attempts == claim.token,
            _OUT.c.status == OutboxStatus.PENDING,
        )
        if claim.purpose == Purpose.FAREWELL and values.get("status") in FINAL_STATUSES:
            # Nothing is kept about a person who erased their data or refused consent: their
            # last reply (encrypted identifier, text) goes once it has an outcome.
            result = connection.execute(delete(_OUT).where(*fence))
        else:
            result = connection.execute(update(_OUT).where(*fence).values(**values))
        return bool(result.rowcount == 1)

    def progress(self, claim: Claim, done: int, provider_id: str | None, now: datetime) -> bool:
        """Record that the first ``done`` parts were accepted; renews the lease."""
        mark = f"{provider_id or f'row{claim.id}'}{PROGRESS_MARK}{done}"
        return self._fenced(claim, provider_message_id=mark, next_attempt_at=now + self.lease)

    def sent(
        self,
        claim: Claim,
        provider_id: str | None,
        now: datetime,
        receipts: KeptReceipts | None = None,
    ) -> bool:
        """Record the send; a delivery receipt that came first (``receipts``: the channel's,
        if it has them) is applied with it."""
        values = {
            "status": OutboxStatus.SENT,
            "sent_at": now,
            "provider_message_id": provider_id,
            "error": None,
            "next_attempt_at": now,
        }
        receipted = receipts if provider_id else None
        with self.db.begin() as connection:
            if receipted is not None:
                receipted.lock_message(connection, provider_id or "")
            done = self._write(connection, claim, values)
            if done and receipted is not None:
                receipted.apply_kept(connection, provider_id or "", now)
        return done

    def retry(self, claim: Claim, at: datetime, error: str) -> bool:
        return self._fenced(claim, next_attempt_at=at, error=error[:500])

    def hold(self, claim: Claim, error: str, now: datetime) -> bool:
        return self._fenced(claim, status=OutboxStatus.HELD, error=error[:500], next_attempt_at=now)

    def fail(
        self, claim: Claim, error: str, now: datetime, *, failure: Failure | None = None
    ) -> bool:
        """Fail the row; what ``failure`` says about the person (unreachable, opted out) is
        recorded on them in the same transaction (``bot.outbox.person_marks``)."""
        values = {"status": OutboxStatus.FAILED, "error": error[:500], "next_attempt_at": now}
        with self.db.begin() as connection:
            done = self._write(connection, claim, values)
            if done:
                mark_person(connection, claim.participant_id, failure, now)
        return done

    def waiting_channels(self, exclude: Collection[str]) -> list[str]:
        """Channels other than ``exclude`` with pending messages."""
        query = (
            select(_OUT.c.channel)
            .where(_OUT.c.status == OutboxStatus.PENDING, _OUT.c.channel.not_in(list(exclude)))
            .distinct()
        )
        with read_only(self.db) as connection:
            return sorted(connection.execute(query).scalars())


def _claim(row: Any, delay: float) -> Claim:
    return Claim(
        id=row["id"],
        token=row["attempts"] + 1,
        channel=row["channel"],
        recipient_hash=row["recipient_hash"],
        recipient_enc=row["recipient_enc"],
        purpose=row["purpose"],
        text=row["text"],
        choices=list(row["choices"] or []),
        participant_id=row["participant_id"],
        created_at=row["created_at"],
        window_from=window_start(
            row["participant_id"], row["window_from"], row["purpose"], row["created_at"]
        ),
        parts_done=parts_done(row["provider_message_id"]),
        interrupted=row["error"] == IN_FLIGHT,
        delay=delay,
    )
