"""The app in-process for the fuzz tests: one event loop and one app for a whole Hypothesis
run, and a minimal ASGI call (no HTTP client in between, so that tens of thousands of
requests take seconds)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, settings
from sqlalchemy import Engine
from sqlmodel import SQLModel

from bot.db.engine import make_engine
from bot.settings import Settings
from tests.web.webhooks_support import Running, make_settings, running_app

T = TypeVar("T")

#: Bodies per endpoint in ``make test``; ``make fuzz`` sets FUZZ_BODIES higher.
BODIES = int(os.environ.get("FUZZ_BODIES", "10000"))
#: Bodies sent at once (one Hypothesis example): concurrent requests share intake batches.
BATCH = 50
#: No request may take longer than this (a hang fails the test).
REQUEST_BOUND = 10.0


NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target)


def fuzz_settings() -> settings:
    """Deterministic in ``make test`` (a fixed seed derived from the test); ``make fuzz``
    sets FUZZ_RANDOM=1 to explore new inputs on each run."""
    return settings(
        max_examples=max(1, BODIES // BATCH),
        derandomize=os.environ.get("FUZZ_RANDOM") != "1",
        database=None,
        deadline=None,
        print_blob=True,
        # In ``make test`` a failure is reported as found (with its reproduce_failure blob):
        # shrinking batches of bodies takes minutes. ``make fuzz`` shrinks.
        phases=tuple(Phase) if os.environ.get("FUZZ_RANDOM") == "1" else NO_SHRINK,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )


@dataclass
class Reply:
    status: int
    headers: dict[bytes, bytes] = field(default_factory=dict)


async def call(
    app: FastAPI, path: str, body: bytes, headers: Sequence[tuple[bytes, bytes]]
) -> Reply:
    """POST ``body`` to ``path`` through the ASGI interface, as a server would."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-length", str(len(body)).encode()), *headers],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 443),
    }
    sent = False
    reply = Reply(0)

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)  # the client waits; never a disconnect mid-body
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            reply.status = message["status"]
            reply.headers = dict(message.get("headers", []))

    await asyncio.wait_for(app(scope, receive, send), REQUEST_BOUND)
    return reply


class Harness:
    """The real app with its lifespan on a fresh SQLite database, on a loop of its own."""

    def __init__(self, tmp_path: Path, **overrides: Any) -> None:
        url = f"sqlite:///{tmp_path / 'fuzz.db'}"
        self.db: Engine = make_engine(url)
        SQLModel.metadata.create_all(self.db)
        self.settings: Settings = make_settings(url, **overrides)
        self.loop = asyncio.new_event_loop()
        self._stack = AsyncExitStack()
        self.running: Running = self.run(
            self._stack.enter_async_context(running_app(self.settings, self.db))
        )
        #: Generated bodies sent so far (the valid deliveries beside them not counted).
        self.fuzzed = 0

    @property
    def app(self) -> FastAPI:
        return self.running.app

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def close(self) -> None:
        try:
            self.run(self._stack.aclose())
        finally:
            self.loop.close()
            self.db.dispose()
