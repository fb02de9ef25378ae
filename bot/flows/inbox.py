"""Working through the inbox: which people have messages waiting (the crisis lane's
``urgent`` ones first), and each person's messages in order, one step per transaction.

Exactly-once: the step marks its message ``done`` in its own transaction, so a crash leaves it
``pending`` for the next round and a redelivery was already dropped by the recorder.
Per-person ordering: the person is locked (an advisory lock on PostgreSQL; SQLite serialises
writers with ``BEGIN IMMEDIATE``) and the conversation carries a version, so two messages
from one person never interleave. A message whose step keeps failing is set aside, and crisis
words in it still raise a signal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, bindparam, or_, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from bot.db.engine import read_only
from bot.db.models import InboundMessage, InboxStatus, Participant, RiskSignal
from bot.flows.machine import CrisisDetector
from bot.flows.step_hooks import StepOutcome
from bot.flows.step_runner import StepRunner
from bot.flows.store import StepStore
from bot.outbox.window import count_released

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
#: A message whose step fails this many times is set aside as ``failed``.
MAX_STEP_FAILURES = 3
#: How long an inline (simulator) message may stay pending before the inbox loop takes it.
INLINE_GRACE = timedelta(seconds=30)
_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(:key)")


class ConcurrencyError(RuntimeError):
    """The step lost the race for the conversation too many times in a row."""


class Inbox:
    """The pending messages, and running them through ``StepRunner`` person by person."""

    def __init__(
        self,
        db: Engine,
        runner: StepRunner,
        store: StepStore,
        detect_crisis: CrisisDetector,
        *,
        inline_channels: Collection[str],
        clock: Callable[[], datetime],
    ) -> None:
        self.db = db
        self.runner = runner
        self.store = store
        self.detect_crisis = detect_crisis
        self.clock = clock
        self._postgres = db.dialect.name == "postgresql"
        self._pending = (
            select(InboundMessage.channel, InboundMessage.sender_hash)
            .where(
                InboundMessage.status == InboxStatus.PENDING,
                or_(
                    col(InboundMessage.channel).not_in(frozenset(inline_channels)),
                    InboundMessage.received_at < bindparam("b_abandoned"),
                ),
            )
            .order_by(col(InboundMessage.id))
            .limit(bindparam("b_limit"))
        )
        self._urgent = self._pending.where(InboundMessage.urgent == True)  # noqa: E712

    # --- who has messages waiting ---------------------------------------------------------

    def pending_senders(self, limit: int = 100) -> list[tuple[str, str, int]]:
        """People with messages waiting, oldest first, with how many of theirs were seen
        waiting. Messages of inline channels (the simulator) are left to the request that
        received them, unless it died on them."""
        abandoned = self.clock() - INLINE_GRACE
        with read_only(self.db) as conn:
            rows = conn.execute(self._pending, {"b_abandoned": abandoned, "b_limit": limit * 4})
            waiting: dict[tuple[str, str], int] = {}
            for channel, sender in rows:
                waiting[(channel, sender)] = waiting.get((channel, sender), 0) + 1
        return [(channel, sender, n) for (channel, sender), n in waiting.items()][:limit]

    def urgent_senders(self, limit: int = 100) -> list[tuple[str, str]]:
        """People with waiting messages that hold crisis words (flagged ``urgent`` when they
        were recorded), oldest first; inline channels as in ``pending_senders``."""
        abandoned = self.clock() - INLINE_GRACE
        with read_only(self.db) as conn:
            rows = conn.execute(self._urgent, {"b_abandoned": abandoned, "b_limit": limit})
            return list(dict.fromkeys((channel, sender) for channel, sender in rows))

    # --- running their messages -----------------------------------------------------------

    def process_pending(self, limit: int = 100) -> list[StepOutcome]:
        outcomes: list[StepOutcome] = []
        for channel, sender, waiting in self.pending_senders(limit):
            outcomes.extend(self.process_sender(channel, sender, waiting))
        return outcomes

    def process_sender(
        self, channel: str, sender_hash: str, limit: int | None = None
    ) -> list[StepOutcome]:
        """Run the pending messages of one person, oldest first, one transaction each: all of
        them, or the first ``limit`` (later ones wait for the next round)."""
        outcomes: list[StepOutcome] = []
        while limit is None or len(outcomes) < limit:
            outcome = self._process_next(channel, sender_hash)
            if outcome is None:
                break
            outcomes.append(outcome)
        return outcomes

    def _process_next(self, channel: str, sender_hash: str) -> StepOutcome | None:
        for _attempt in range(MAX_ATTEMPTS):
            inbound_id: int | None = None
            try:
                with Session(self.db, expire_on_commit=False) as session:
                    conn = session.connection()
                    self._lock_sender(conn, sender_hash)
                    pending = self.store.next_pending(conn, channel, sender_hash)
                    if pending is None:
                        return None
                    inbound_id = pending.id
                    outcome = self.runner.run(session, conn, pending, self.clock())
                    session.commit()
                    if outcome.released:
                        count_released(channel, outcome.released)
                        log.info(
                            "held messages released: the person wrote again",
                            extra={"participant_id": outcome.participant_id},
                        )
                    return outcome
            except (IntegrityError, StaleDataError):
                log.info("conversation changed concurrently; retrying")
            except Exception:  # a poison message must not block the person's queue
                log.exception("conversation step failed", extra={"inbound_id": inbound_id})
                if inbound_id is None:
                    raise
                self._record_failure(inbound_id)
        raise ConcurrencyError("could not process the message after repeated conflicts")

    def _record_failure(self, inbound_id: int) -> None:
        """Count a failed step; after ``MAX_STEP_FAILURES`` the message is set aside as
        ``failed`` (crisis words in it still raise a signal, so no risk is lost)."""
        with Session(self.db) as session:
            inbound = session.get(InboundMessage, inbound_id)
            if inbound is None or inbound.status != InboxStatus.PENDING:
                return
            inbound.attempts += 1
            if inbound.attempts >= MAX_STEP_FAILURES:
                inbound.status = InboxStatus.FAILED
                inbound.processed_at = self.clock()
                crisis = self.detect_crisis(inbound.text or "")
                if crisis is not None:
                    participant = session.exec(
                        select(Participant).where(
                            Participant.channel == inbound.channel,
                            Participant.external_hash == inbound.sender_hash,
                        )
                    ).first()
                    session.add(
                        RiskSignal(
                            participant_id=participant.id if participant else None,
                            source="free_text",
                            rule_id=f"text.{crisis.pattern_id}",
                            priority=crisis.priority,
                            reason=f"{crisis.category} (message could not be processed)",
                            detail={"matched": crisis.matched, "inbound_id": inbound.id},
                            created_at=self.clock(),
                        )
                    )
            session.add(inbound)
            session.commit()

    def _lock_sender(self, conn: Connection, sender_hash: str) -> None:
        """Serialise steps for one person across processes (SQLite: BEGIN IMMEDIATE)."""
        if self._postgres:
            key = int(sender_hash[:15], 16)  # 60 bits: fits a bigint
            conn.execute(_ADVISORY_LOCK, {"key": key})
