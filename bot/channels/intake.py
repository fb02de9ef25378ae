"""The webhooks' durable intake: inbound messages recorded in group-committed batches.

A webhook answers 2xx only once its message is committed to the inbox (``inbound_message``).
Committing each message in its own transaction caps a SQLite server at a few hundred
messages per second, so concurrent deliveries are written together: the first request to
arrive starts a writer task, which takes every message waiting (up to ``max_batch``) and
commits them in one transaction on a worker thread; requests arriving meanwhile form the next
batch. Each request waits for its own batch's commit.

What a row holds, the cleaning rule and exactly-once are the inbox recorder's
(``bot.flows.recorder``), the same for webhooks and simulators. (A Telegram button press is
answered in the webhook's response: see ``bot.channels.telegram.webhook``.)
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence

from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError

from bot.flows.recorder import InboxRecorder, Received
from bot.flows.types import Inbound

log = logging.getLogger(__name__)

#: The intake counts as saturated when this many requests wait for their commit, or when a
#: request waits longer than SLOW_COMMIT seconds on average (recent requests weigh most)…
SATURATED = 8
SLOW_COMMIT = 0.015
#: …and stays so for SATURATION_HOLD seconds after the last sign of it.
SATURATION_HOLD = 1.0


class IntakeUnavailable(RuntimeError):
    """The message could not be recorded (database down): answer 503 so the platform retries."""


_Waiter = tuple[Inbound, "asyncio.Future[Received]"]


class Intake:
    """Records deliveries durably, batching concurrent ones into one transaction."""

    def __init__(
        self,
        recorder: InboxRecorder,
        *,
        max_batch: int = 256,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        #: The conversation service's recorder: the one way a message enters the inbox.
        self.recorder = recorder
        self.max_batch = max_batch
        self.on_commit = on_commit
        self._waiting: list[_Waiter] = []
        self._unsettled = 0
        self._mean_wait = 0.0
        self._saturated_until = 0.0
        self._writer: asyncio.Task[None] | None = None

    # --- async front ----------------------------------------------------------------------

    async def submit(self, inbound: Inbound) -> Received:
        """Record ``inbound``; returns once it is committed (or known as a duplicate)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Received] = loop.create_future()
        self._waiting.append((inbound, future))
        if self._writer is None or self._writer.done():
            self._writer = loop.create_task(self._drain(), name="intake-writer")
        self._unsettled += 1
        started = time.monotonic()
        try:
            return await future
        finally:
            self._unsettled -= 1
            self._note_wait(started, time.monotonic())

    def _note_wait(self, started: float, now: float) -> None:
        self._mean_wait += 0.1 * ((now - started) - self._mean_wait)
        if self._unsettled + 1 >= SATURATED or self._mean_wait > SLOW_COMMIT:
            self._saturated_until = now + SATURATION_HOLD

    def saturated(self) -> bool:
        """True while the webhooks are taking all they can (many requests waiting for their
        commit, or commits slow to come) and for a moment after: the background loops of this
        process should give way (``bot.loops``)."""
        if self._unsettled >= SATURATED:
            return True
        return time.monotonic() < self._saturated_until

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[: self.max_batch]
                del self._waiting[: self.max_batch]
                results: list[Received | IntakeUnavailable] = []
                try:
                    results = await self._write_batch([d for d, _ in batch])
                finally:
                    _settle(batch, results)  # whatever happened, no request waits forever
                if self.on_commit is not None and any(isinstance(r, Received) for r in results):
                    self.on_commit()
        finally:
            if self._waiting:  # left by an unexpected error: the next writer takes them
                self._writer = asyncio.get_running_loop().create_task(self._drain())

    async def _write_batch(self, deliveries: list[Inbound]) -> list[Received | IntakeUnavailable]:
        try:
            return list(await asyncio.to_thread(self.write, deliveries))
        except (DataError, IntegrityError) as err:
            if len(deliveries) == 1:
                # Only the error's class: its text carries the statement's parameters.
                log.error("an inbound message was refused by the database", extra=_error(err))
                return [IntakeUnavailable("the database refused the message")]
            # Keep one bad row from failing the others: record them one by one.
            log.warning("inbound batch refused; recording its messages one by one")
            return [(await self._write_batch([d]))[0] for d in deliveries]
        except SQLAlchemyError as err:
            log.error("inbound messages could not be recorded", extra=_error(err))
            return [IntakeUnavailable("the database is unavailable")] * len(deliveries)

    def write(self, deliveries: Sequence[Inbound]) -> list[Received]:
        """Record ``deliveries`` in one transaction (on this thread)."""
        return self.recorder.write(deliveries)


def _error(err: SQLAlchemyError) -> dict[str, str]:
    """What may be logged of a database error: its classes, never its message (which holds
    the statement's parameters: message text, encrypted identifiers)."""
    original = getattr(err, "orig", None)
    return {"error": type(err).__name__, "cause": type(original).__name__ if original else ""}


def _settle(batch: list[_Waiter], results: list[Received | IntakeUnavailable]) -> None:
    for index, (_, future) in enumerate(batch):
        if future.done():  # the request went away; its message is recorded all the same
            continue
        result = results[index] if index < len(results) else None
        if isinstance(result, Received):
            future.set_result(result)
        else:
            future.set_exception(result or IntakeUnavailable("the message was not recorded"))
