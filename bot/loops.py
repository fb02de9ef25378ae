"""The machinery of the background loops: a :class:`Loop` calls its tick until stopped, and
:class:`Workers` is the set of loops of one process, which give way to the webhooks while
they are saturated.

The loops themselves are built elsewhere: the inbox, crisis-lane and escalation loops in
``bot.worker``, the outbox dispatchers in ``bot.delivery.dispatcher``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from bot.db.models import utcnow

log = logging.getLogger(__name__)

Tick = Callable[[], Awaitable[int]]
T = TypeVar("T")


async def in_thread(call: Callable[[], T]) -> tuple[T, float]:
    """Run ``call`` in a worker thread; returns its result and the CPU seconds it used (its
    wall time also counts waiting for the database and the interpreter lock)."""

    def measured() -> tuple[T, float]:
        started = time.thread_time()
        result = call()
        return result, time.thread_time() - started

    return await asyncio.to_thread(measured)


@dataclass
class Loop:
    """Calls ``tick`` until stopped; a tick returns how much work it did (0 = idle)."""

    name: str
    tick: Tick
    idle_interval: float = 0.5
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    last_tick_at: float | None = None
    #: Gives way to the webhooks while they are saturated (see ``Workers.under_pressure``).
    gives_way: bool = True
    #: …and then ticks only in turn with the other loops that do (CPU-bound ticks).
    takes_turns: bool = True
    _workers: Workers | None = None
    #: CPU seconds of the last tick, when the tick measured it (``in_thread``); the tick's
    #: wall time is used otherwise.
    cost: float | None = None

    def wake(self) -> None:
        self._wake.set()

    @property
    def woken(self) -> bool:
        """Woken and not yet started its next tick."""
        return self._wake.is_set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._wake.clear()
            async with self._turn() as giving_way:
                started = time.monotonic()
                self.cost = None
                try:
                    done = await self.tick()
                except Exception:  # a failing tick must not kill the loop: log, back off, retry
                    log.exception("background loop tick failed", extra={"loop": self.name})
                    done = 0
                self.last_tick_at = utcnow().timestamp()
                if done and giving_way:
                    cost = self.cost if self.cost is not None else time.monotonic() - started
                    await asyncio.sleep(min(MAX_GIVE_WAY, cost * GIVE_WAY))
            if done:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.idle_interval)

    @contextlib.asynccontextmanager
    async def _turn(self) -> AsyncIterator[bool]:
        """While the webhooks of this server are saturated, the loops that give way take turns
        (one tick at a time) and pause after each tick for ``GIVE_WAY`` times as long as it
        ran: together they get about 1 / (1 + GIVE_WAY) of the interpreter, which they share
        with the webhooks, and a webhook that waits too long is redelivered (Telegram) or
        lost (Twilio does not retry a timeout). The crisis lane never gives way."""
        workers = self._workers
        if not self.gives_way or workers is None or not workers.under_pressure():
            yield False
            return
        if not self.takes_turns:
            yield True
            return
        async with workers.turns:
            yield True


#: While the webhooks are saturated the background loops pause this many times as long as
#: their tick took (its CPU time when measured; so together they get about a quarter of the
#: interpreter), but never longer than MAX_GIVE_WAY seconds.
GIVE_WAY = 3.0
MAX_GIVE_WAY = 0.25


class Workers:
    """The set of loops of one process."""

    def __init__(self) -> None:
        self.loops: dict[str, Loop] = {}
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        #: Set by the web app: true while its webhooks are saturated (``bot.channels.intake``).
        self.pressure: Callable[[], bool] | None = None
        self.turns = asyncio.Lock()

    def under_pressure(self) -> bool:
        return self.pressure is not None and self.pressure()

    def add(self, loop: Loop) -> Loop:
        self.loops[loop.name] = loop
        loop._workers = self
        return loop

    def wake(self, name: str) -> None:
        loop = self.loops.get(name)
        if loop is not None:
            loop.wake()

    def alive(self, name: str, within: float) -> bool:
        loop = self.loops.get(name)
        if loop is None or loop.last_tick_at is None:
            return False
        return utcnow().timestamp() - loop.last_tick_at <= within

    def start(self) -> None:
        self._stop.clear()
        self._tasks = [
            asyncio.create_task(loop.run(self._stop), name=f"loop:{loop.name}")
            for loop in self.loops.values()
        ]

    async def stop(self) -> None:
        self._stop.set()
        for loop in self.loops.values():
            loop.wake()
        if self._tasks:
            await asyncio.gather(*self._tasks)
        self._tasks = []


@dataclass
class ClosingLoop(Loop):
    """A loop that runs ``on_stop`` when it ends (closes the senders' HTTP clients)."""

    on_stop: Callable[[], Awaitable[None]] | None = None

    async def run(self, stop: asyncio.Event) -> None:
        try:
            await super().run(stop)
        finally:
            if self.on_stop is not None:
                await self.on_stop()
