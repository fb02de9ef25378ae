"""SQLite: writers of different processes take turns, the webhooks' intake first.

SQLite lets one connection write at a time. A writer that finds the database busy waits in
SQLite's busy handler, which sleeps 1, 2, 5 … 100 ms between tries: a process that writes
often (``python -m bot worker`` running conversation steps) then keeps the database for
itself, and the server's webhooks, which must answer in milliseconds, wait for seconds.

Within a process the writer queue of ``bot.db.engine`` orders transactions. Between
processes this gate does, with two lock files beside the database (``flock``, released by
the kernel if a process dies):

- ``<db>-writer.lock``: held exclusively for the length of each write transaction;
- ``<db>-urgent.lock``: an urgent writer (the intake) holds it shared from the moment it
  wants the database until its commit, and a background writer starts a transaction only
  while nobody holds it. So the intake waits at most for the transaction in progress.

Every wait is bounded: past the timeout the transaction goes ahead and meets SQLite's own
lock and busy timeout, as without the gate.
"""

from __future__ import annotations

import fcntl
import os
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

#: Shortest and longest sleep between two tries of a lock.
FIRST_PAUSE = 0.00005
LONGEST_PAUSE = 0.001


@dataclass(frozen=True, slots=True)
class Passage:
    """What ``ProcessGate.enter`` took, for ``leave`` to give back."""

    urgent: bool
    writer: bool


class ProcessGate:
    def __init__(self, database: Path) -> None:
        def open_lock(suffix: str) -> int:
            return os.open(
                f"{database}-{suffix}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600
            )

        self._writer = open_lock("writer")
        self._urgent = open_lock("urgent")  # held shared by this process's urgent writer
        self._probe = open_lock("urgent")  # tried exclusively: is any urgent writer waiting?
        weakref.finalize(self, _close, (self._writer, self._urgent, self._probe))

    def enter(self, urgent: bool, timeout: float) -> Passage:
        """Wait for this process's turn to write (at most ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        if urgent:
            announced = _take(self._urgent, fcntl.LOCK_SH, deadline)
        else:
            announced = False
            if _take(self._probe, fcntl.LOCK_EX, deadline):  # no urgent writer anywhere
                fcntl.flock(self._probe, fcntl.LOCK_UN)
        return Passage(urgent=announced, writer=_take(self._writer, fcntl.LOCK_EX, deadline))

    def leave(self, passage: Passage) -> None:
        if passage.writer:
            fcntl.flock(self._writer, fcntl.LOCK_UN)
        if passage.urgent:
            fcntl.flock(self._urgent, fcntl.LOCK_UN)


def _take(fd: int, operation: int, deadline: float) -> bool:
    """Take a lock, trying until ``deadline`` (a blocking ``flock`` could not time out)."""
    pause = FIRST_PAUSE
    while True:
        try:
            fcntl.flock(fd, operation | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE)


def _close(fds: tuple[int, ...]) -> None:
    for fd in fds:
        os.close(fd)
