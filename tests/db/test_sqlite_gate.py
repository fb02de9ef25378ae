"""SQLite across processes: the webhooks' writes go before another process's background
writes, and never meet the database locked (``bot.db.sqlite_gate``)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import Engine

from tests.cli_support import ROOT
from tests.db.test_sqlite_writer_queue import engine_at, impatient, order, write


def start_writer(tmp_path: Path, seconds: float, hold: float) -> subprocess.Popen[str]:
    url = f"sqlite:///{tmp_path / 'queue.db'}"
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.db.gate_writer", url, str(seconds), str(hold)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "started"
    return process


def urgent_writes(engine: Engine, count: int) -> None:
    for n in range(count):
        write(engine, f"webhook{n}", urgent=True)  # "database is locked" would raise here
        time.sleep(0.005)


def test_urgent_writes_pass_a_busy_background_process(tmp_path: Path) -> None:
    engine = impatient(engine_at(tmp_path))
    try:
        worker = start_writer(tmp_path, seconds=3.0, hold=0.002)
        try:
            urgent_writes(engine, 100)
        finally:
            out, _ = worker.communicate(timeout=30)
        assert worker.returncode == 0
        assert int(out.split()[-1]) > 100  # the worker wrote all along
        assert sum(who.startswith("webhook") for who in order(engine)) == 100
    finally:
        engine.dispose()


def test_a_process_killed_inside_a_transaction_does_not_block_the_others(
    tmp_path: Path,
) -> None:
    """The kernel drops a dead process's locks (the gate's and SQLite's)."""
    engine = impatient(engine_at(tmp_path))
    try:
        worker = start_writer(tmp_path, seconds=60.0, hold=30.0)  # now inside a transaction
        worker.kill()
        worker.communicate(timeout=10)
        urgent_writes(engine, 3)
        write(engine, "background")
        assert order(engine)[-4:] == ["webhook0", "webhook1", "webhook2", "background"]
    finally:
        engine.dispose()
