"""Thread-safe call log and programmable faults shared by the fake APIs.

The fake servers run in their own thread; tests read the log and program faults from theirs.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

CallPredicate = Callable[["RecordedCall"], bool]


@dataclass(frozen=True)
class RecordedCall:
    """One request the fake received.

    ``method`` is the API method (``sendMessage``, ``messages.create``); ``params`` the decoded
    parameters; ``time`` is ``time.monotonic()`` at arrival; ``status`` the HTTP status the fake
    answered with; ``raw`` the parameters exactly as sent (strings), for format checks.
    """

    method: str
    params: dict[str, Any]
    time: float
    status: int
    path: str
    content_type: str
    raw: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


class CallLog:
    """Append-only list of calls with blocking and async waits."""

    def __init__(self) -> None:
        self._calls: list[RecordedCall] = []
        self._cond = threading.Condition()

    def append(self, call: RecordedCall) -> None:
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()

    def calls(self, method: str | None = None) -> list[RecordedCall]:
        with self._cond:
            return [c for c in self._calls if method is None or c.method == method]

    def mark(self) -> int:
        """Current length; pass it as ``since`` to wait only for later calls."""
        with self._cond:
            return len(self._calls)

    def clear(self) -> None:
        with self._cond:
            self._calls.clear()

    def _find(
        self, method: str | None, predicate: CallPredicate | None, since: int
    ) -> RecordedCall | None:
        for call in self._calls[since:]:
            if (method is None or call.method == method) and (predicate is None or predicate(call)):
                return call
        return None

    def wait_for(
        self,
        method: str | None = None,
        predicate: CallPredicate | None = None,
        timeout: float = 5.0,
        *,
        since: int = 0,
    ) -> RecordedCall:
        """Block until a matching call (already recorded or new) arrives; return the first.

        Do not use it from a coroutine whose own loop must make the call: use
        ``wait_for_async`` there.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while (found := self._find(method, predicate, since)) is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"no {method or 'call'} matching the predicate within {timeout}s; "
                        f"got {[c.method for c in self._calls]}"
                    )
                self._cond.wait(remaining)
            return found

    async def wait_for_async(
        self,
        method: str | None = None,
        predicate: CallPredicate | None = None,
        timeout: float = 5.0,
        *,
        since: int = 0,
    ) -> RecordedCall:
        """Like ``wait_for`` but polls without blocking the running event loop."""
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                found = self._find(method, predicate, since)
            if found is not None:
                return found
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no {method or 'call'} matching the predicate in {timeout}s")
            await asyncio.sleep(0.01)


@dataclass
class Fault:
    """What to do instead of (or before) a normal answer.

    ``status`` None means answer normally after ``delay`` seconds. ``target`` restricts the
    fault to one recipient (Telegram ``chat_id``, Twilio ``To``). ``remaining`` None means
    forever (until ``FaultBook.clear``).
    """

    status: int | None
    body: dict[str, Any] | None = None
    delay: float = 0.0
    target: str | None = None
    remaining: int | None = 1


class FaultBook:
    """Faults per method, consumed in the order they were programmed."""

    def __init__(self) -> None:
        self._faults: dict[str, list[Fault]] = {}
        self._lock = threading.Lock()

    def add(self, method: str, fault: Fault) -> None:
        if fault.remaining is not None and fault.remaining < 1:
            raise ValueError("times must be >= 1 or None")
        with self._lock:
            self._faults.setdefault(method, []).append(fault)

    def take(self, method: str, target: str | None) -> Fault | None:
        """Consume and return the first fault for ``method`` that applies to ``target``."""
        with self._lock:
            queue = self._faults.get(method, [])
            for index, fault in enumerate(queue):
                if fault.target is not None and fault.target != target:
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        del queue[index]
                return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
