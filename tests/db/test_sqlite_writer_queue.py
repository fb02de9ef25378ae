"""SQLite: the transactions of one process queue for the database, urgent ones first."""

from __future__ import annotations

import gc
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import Engine, event

from bot.db.engine import URGENT, make_engine, read_only


def engine_at(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'queue.db'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE log (id INTEGER PRIMARY KEY, who TEXT)")
    return engine


def impatient(engine: Engine) -> Engine:
    """``engine`` with SQLite's busy timeout at 0: a writer that met the lock held would fail
    at once ("database is locked") instead of sleeping in SQLite's busy handler."""
    event.listen(engine, "connect", lambda dbapi, _record: dbapi.execute("PRAGMA busy_timeout=0"))
    engine.dispose()  # connections made before keep the engine's 30 s
    return engine


def write(engine: Engine, who: str, urgent: bool = False, hold: float = 0.0) -> None:
    with engine.connect() as connection:
        if urgent:
            connection.execution_options(**{URGENT: True})
        with connection.begin():
            connection.exec_driver_sql("INSERT INTO log (who) VALUES (?)", (who,))
            time.sleep(hold)


def order(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return [r[0] for r in connection.exec_driver_sql("SELECT who FROM log ORDER BY id")]


def test_an_urgent_transaction_goes_before_those_already_waiting(tmp_path: Path) -> None:
    engine = engine_at(tmp_path)
    try:
        holder = threading.Thread(target=write, args=(engine, "holder"), kwargs={"hold": 0.3})
        holder.start()
        time.sleep(0.05)
        waiting = [threading.Thread(target=write, args=(engine, f"loop{n}")) for n in range(3)]
        for thread in waiting:
            thread.start()
        time.sleep(0.05)
        urgent = threading.Thread(target=write, args=(engine, "webhook"), kwargs={"urgent": True})
        urgent.start()
        for thread in [holder, *waiting, urgent]:
            thread.join(10)
        assert order(engine)[:2] == ["holder", "webhook"]
        assert sorted(order(engine)[2:]) == ["loop0", "loop1", "loop2"]
    finally:
        engine.dispose()


def test_many_writers_never_meet_a_locked_database(tmp_path: Path) -> None:
    engine = engine_at(tmp_path)

    def many(n: int) -> None:
        for i in range(40):
            write(engine, f"{n}-{i}", urgent=n % 2 == 0)

    try:
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=8) as pool:
            for future in [pool.submit(many, n) for n in range(8)]:
                future.result(timeout=60)  # a "database is locked" error would raise here
        assert len(order(engine)) == 320
        assert time.monotonic() - started < 20
    finally:
        engine.dispose()


def test_a_connection_dropped_inside_a_transaction_leaves_the_queue(tmp_path: Path) -> None:
    engine = engine_at(tmp_path)
    try:
        leaked = engine.connect()
        leaked.exec_driver_sql("SELECT 1")  # begins, and takes the queue
        assert leaked.in_transaction()
        del leaked
        gc.collect()
        started = time.monotonic()
        write(engine, "next")
        assert time.monotonic() - started < 1.0
    finally:
        engine.dispose()


def test_a_read_only_connection_reads_while_a_writer_holds_the_database(tmp_path: Path) -> None:
    """Polling loops read with ``read_only``: they neither wait for nor hold up a writer."""
    engine = engine_at(tmp_path)
    try:
        write(engine, "before")
        holder = threading.Thread(target=write, args=(engine, "holder"), kwargs={"hold": 1.0})
        holder.start()
        time.sleep(0.1)  # the holder has the queue and SQLite's write lock
        with read_only(engine) as connection:
            seen = [r[0] for r in connection.exec_driver_sql("SELECT who FROM log ORDER BY id")]
            read_while_held = holder.is_alive()  # a queued read would have waited it out
        holder.join(10)
        assert read_while_held
        assert seen == ["before"]  # the snapshot before the holder's commit
    finally:
        engine.dispose()


def test_a_writer_waits_for_its_turn_before_it_begins(tmp_path: Path) -> None:
    """``BEGIN IMMEDIATE`` is issued only once the queue gives the turn: the writer behind
    never meets the database locked (it used to, and slept in SQLite's busy handler)."""
    engine = impatient(engine_at(tmp_path))
    try:
        holder = threading.Thread(target=write, args=(engine, "holder"), kwargs={"hold": 0.3})
        holder.start()
        time.sleep(0.05)
        write(engine, "next")  # with the turn taken after BEGIN: "database is locked"
        holder.join(10)
        assert order(engine) == ["holder", "next"]
    finally:
        engine.dispose()
