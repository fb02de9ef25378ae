"""Database engine: SQLite (WAL, one writer at a time) or PostgreSQL."""

from __future__ import annotations

import math
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import create_engine

from bot.db.sqlite_gate import ProcessGate

if TYPE_CHECKING:
    from bot.settings import Settings


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Bounds on waiting for the database, in seconds (``DATABASE_*_TIMEOUT`` settings).

    ``connect``: opening a connection (PostgreSQL: the whole handshake, at least 2 s as libpq
    counts it). ``statement``: PostgreSQL's ``statement_timeout``; SQLite's busy timeout (how
    long a writer waits for the lock). None: no limit (migrations). ``pool``: waiting for a
    free connection of the pool."""

    connect: float = 5.0
    statement: float | None = 30.0
    pool: float = 10.0


def timeouts_of(settings: Settings) -> Timeouts:
    return Timeouts(
        connect=settings.database_connect_timeout,
        statement=settings.database_statement_timeout,
        pool=settings.database_pool_timeout,
    )


def make_engine(database_url: str, *, timeouts: Timeouts | None = None, **kwargs: Any) -> Engine:
    """Create the engine for ``database_url``, every wait bounded by ``timeouts``.

    SQLite: WAL journal, foreign keys on, and every transaction starts with
    ``BEGIN IMMEDIATE`` so that two steps for one person never interleave (writers queue
    on the database lock instead of failing half-way). PostgreSQL: per-person row locks
    (``SELECT … FOR UPDATE``) do that job; see ``bot.flows.service``.
    """
    timeouts = timeouts or Timeouts()
    url = make_url(database_url)
    kwargs.setdefault("pool_timeout", timeouts.pool)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(database_url, timeouts, **kwargs)
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    connect_args = dict(kwargs.pop("connect_args", {}))
    if "connect_timeout" not in url.query:  # a timeout in the URL itself wins
        connect_args.setdefault("connect_timeout", max(2, math.ceil(timeouts.connect)))
    if timeouts.statement is not None:
        # Added to the URL's own ``options`` (the tests' search_path), which connect_args
        # would otherwise replace.
        options = str(url.query.get("options", ""))
        limit = f"-c statement_timeout={math.ceil(timeouts.statement * 1000)}"
        connect_args.setdefault("options", f"{options} {limit}".strip())
    return create_engine(database_url, connect_args=connect_args, **kwargs)


def _sqlite_engine(database_url: str, timeouts: Timeouts, **kwargs: Any) -> Engine:
    url = make_url(database_url)
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    busy = timeouts.statement if timeouts.statement is not None else 3600.0
    connect_args = kwargs.pop("connect_args", {})
    connect_args.setdefault("check_same_thread", False)
    connect_args.setdefault("timeout", busy)
    engine = create_engine(database_url, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy * 1000)}")
        cursor.close()

    gate = None
    if url.database and url.database != ":memory:":
        gate = ProcessGate(Path(url.database))
    _queue_writers(engine, gate)
    return engine


#: Longest wait in the in-process writer queue; past it SQLite's own busy timeout takes over.
WRITER_QUEUE_TIMEOUT = 30.0
#: Execution option of a connection that only reads (``read_only``): on SQLite it neither
#: queues with the writers nor takes the write lock, so polling loops do not hold up the
#: webhooks' commits. A write on such a connection may fail (SQLITE_BUSY): only read.
READ_ONLY = "sqlite_read_only"


def read_only(engine: Engine) -> Connection:
    """A connection for reads only (see ``READ_ONLY``); use it as a context manager."""
    return engine.connect().execution_options(**{READ_ONLY: True})


#: Execution option of a connection whose transactions go before the background loops'
#: (the webhooks' intake: a platform is waiting for its answer).
URGENT = "sqlite_urgent_writer"
#: Key in a connection's ``info`` while it holds its turn (its gate passage, or None).
_QUEUED = "_queued_writer"


class _WriterQueue:
    """One transaction at a time per process; urgent ones go first."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._busy = False
        self._urgent_waiting = 0

    def acquire(self, urgent: bool, timeout: float) -> bool:
        with self._cond:
            if urgent:
                self._urgent_waiting += 1
            try:
                free = self._cond.wait_for(
                    lambda: not self._busy and (urgent or not self._urgent_waiting), timeout
                )
                if free:
                    self._busy = True
                return free
            finally:
                if urgent:
                    self._urgent_waiting -= 1

    def release(self) -> None:
        with self._cond:
            self._busy = False
            self._cond.notify_all()


def _queue_writers(engine: Engine, gate: ProcessGate | None = None) -> None:
    """Transactions of one process (webhook intake, inbox loop, dashboard…) take turns in a
    queue before ``BEGIN IMMEDIATE``, instead of meeting SQLite's busy handler, which sleeps
    1, 2, 5 … 100 ms between tries and so starves a writer that keeps finding the database
    busy. Connections with the ``URGENT`` execution option go first. Between processes,
    ``gate`` does the same (``bot.db.sqlite_gate``)."""
    queue = _WriterQueue()

    def begin(connection: Any) -> None:
        options = connection.get_execution_options()
        if options.get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")  # a snapshot read: no write lock
            return
        urgent = bool(options.get(URGENT))
        if queue.acquire(urgent, WRITER_QUEUE_TIMEOUT):
            passage = gate.enter(urgent, WRITER_QUEUE_TIMEOUT) if gate is not None else None
            connection.info[_QUEUED] = passage
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # only now: the database is ours

    def leave_queues(info: dict[str, Any]) -> None:
        if _QUEUED in info:
            passage = info.pop(_QUEUED)
            if gate is not None and passage is not None:
                gate.leave(passage)
            queue.release()

    def leave(connection: Any) -> None:
        leave_queues(connection.info)

    def end(statement: str) -> Callable[[Any], None]:
        def ended(connection: Any) -> None:
            # SQLAlchemy announces a commit or rollback *before* running it; leaving the
            # queues then would let the next writer's BEGIN IMMEDIATE meet the lock still
            # held (SQLite's busy handler then sleeps 1 ms or more). So end the transaction
            # here (SQLAlchemy's own call then finds none open), then leave.
            dbapi_connection = connection.connection.dbapi_connection
            if dbapi_connection is not None and dbapi_connection.in_transaction:
                try:
                    dbapi_connection.execute(statement)
                except sqlite3.Error as err:  # still in the queue until the rollback
                    raise OperationalError(statement, None, err) from err
            leave(connection)

        return ended

    def checked_in(_dbapi_connection: Any, record: Any) -> None:
        # A connection given back to the pool without commit or rollback (its transaction is
        # rolled back by the pool) leaves the queue too.
        if record is not None:
            leave_queues(record.info)

    # One listener queues and then begins: listeners of one event do not run in a dependable
    # order (a separate BEGIN listener ran first, so writers met SQLite's busy handler).
    event.listen(engine, "begin", begin)
    event.listen(engine, "commit", end("COMMIT"))
    event.listen(engine, "rollback", end("ROLLBACK"))
    event.listen(engine.pool, "checkin", checked_in)
