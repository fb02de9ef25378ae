"""Background loops: the inbox processor, the outbox dispatcher, escalation timers.

They run inside the server by default (``RUN_WORKERS_IN_SERVER``) and in
``python -m bot worker`` processes for scale. Every loop is safe to run in several
processes at once: work is claimed under database locks. Each loop can be woken early
(``wake``) by the code that created work for it in the same process; otherwise it polls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.db.models import utcnow
from bot.runtime import Runtime

log = logging.getLogger(__name__)

Tick = Callable[[], Awaitable[int]]


@dataclass
class Loop:
    """Calls ``tick`` until stopped; a tick returns how much work it did (0 = idle)."""

    name: str
    tick: Tick
    idle_interval: float = 0.5
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    last_tick_at: float | None = None

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._wake.clear()
            try:
                done = await self.tick()
            except Exception:  # a failing tick must not kill the loop: log, back off, retry
                log.exception("background loop tick failed", extra={"loop": self.name})
                done = 0
            self.last_tick_at = utcnow().timestamp()
            if done:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.idle_interval)


class Workers:
    """The set of loops of one process."""

    def __init__(self) -> None:
        self.loops: dict[str, Loop] = {}
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def add(self, loop: Loop) -> Loop:
        self.loops[loop.name] = loop
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


def inbox_loop(runtime: Runtime, workers: Workers) -> Loop:
    """Runs pending conversation steps (messages recorded by the webhooks)."""

    async def tick() -> int:
        outcomes = await asyncio.to_thread(runtime.conversations.process_pending, 100)
        if any(o.outbound_ids for o in outcomes):
            workers.wake("outbox")
        return len(outcomes)

    return Loop("inbox", tick)


def build_workers(runtime: Runtime) -> Workers:
    """Every background loop of a process (server or ``python -m bot worker``)."""
    workers = Workers()
    workers.add(inbox_loop(runtime, workers))
    return workers
