"""The webhooks' group-committed intake (batching in front of the inbox recorder, tested in
tests/flows/test_recorder.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from bot.channels.intake import (
    SATURATED,
    SATURATION_HOLD,
    SLOW_COMMIT,
    Intake,
    IntakeUnavailable,
)
from bot.crypto import Cipher
from bot.db.engine import make_engine
from bot.flows.recorder import InboxRecorder
from tests.flows.inbox_messages import SECRET, inbound, no_crisis, rows


def lock_briefly(database_url: str, seconds: float) -> threading.Thread:
    """Another connection holds the inbox's write lock for ``seconds`` (a busy database)."""
    started = threading.Event()

    def hold() -> None:
        engine = make_engine(database_url)
        try:
            with engine.connect() as connection:
                if engine.dialect.name == "postgresql":
                    connection.execute(text("LOCK TABLE inbound_message IN EXCLUSIVE MODE"))
                else:
                    connection.exec_driver_sql("SELECT 1")  # BEGIN IMMEDIATE
                started.set()
                time.sleep(seconds)
                connection.rollback()
        finally:
            engine.dispose()

    thread = threading.Thread(target=hold)
    thread.start()
    started.wait(10)
    return thread


@pytest.fixture
def intake(db: Engine) -> Intake:
    return Intake(InboxRecorder(db, Cipher(SECRET), no_crisis))


async def test_concurrent_submissions_are_committed_together(db: Engine) -> None:
    commits: list[int] = []
    event.listen(db, "commit", lambda connection: commits.append(1))
    woken: list[int] = []
    intake = Intake(InboxRecorder(db, Cipher(SECRET), no_crisis), on_commit=lambda: woken.append(1))
    deliveries = [inbound(str(n % 7)) for n in range(60)]
    deliveries += deliveries[:5]  # redelivered at the same time
    results = await asyncio.gather(*(intake.submit(d) for d in deliveries))
    assert sum(not r.duplicate for r in results) == 60
    assert sum(r.duplicate for r in results) == 5
    assert len(rows(db)) == 60
    assert 1 <= len(commits) < 10  # group commit: a few transactions, not 60
    assert woken and len(woken) <= len(commits)
    assert intake.saturated()  # 65 requests at once: the loops give way for a moment
    await asyncio.sleep(SATURATION_HOLD + 0.1)
    assert not intake.saturated()


async def test_waiting_requests_make_the_intake_saturated(
    intake: Intake, database_url: str
) -> None:
    """Another connection holds the write lock; requests pile up, then all get through."""
    blocker = make_engine(database_url)
    try:
        with blocker.connect() as connection:
            if blocker.dialect.name == "postgresql":
                connection.execute(text("LOCK TABLE inbound_message IN EXCLUSIVE MODE"))
            else:
                connection.exec_driver_sql("SELECT 1")  # BEGIN IMMEDIATE: holds the lock
            tasks = [asyncio.create_task(intake.submit(inbound())) for _ in range(SATURATED + 2)]
            for _ in range(100):
                await asyncio.sleep(0.01)
                if intake.saturated():
                    break
            assert intake.saturated()
            connection.rollback()
        results = await asyncio.gather(*tasks)
    finally:
        blocker.dispose()
    assert all(r.inbound_id for r in results)
    await asyncio.sleep(SATURATION_HOLD + 0.1)
    assert not intake.saturated()


async def test_slow_commits_make_the_intake_saturated(intake: Intake, database_url: str) -> None:
    """One request at a time, but each waits long for its commit."""
    assert not intake.saturated()
    await intake.submit(inbound())
    await asyncio.sleep(SATURATION_HOLD + 0.1)
    assert not intake.saturated()  # a quick commit
    for _ in range(3):
        holder = lock_briefly(database_url, SLOW_COMMIT * 4)
        await intake.submit(inbound())
        holder.join()
    assert intake.saturated()


async def test_a_database_outage_fails_every_waiting_request(
    caplog: pytest.LogCaptureFixture,
) -> None:
    dead = make_engine("postgresql+psycopg://postgres@127.0.0.1:9/nowhere?connect_timeout=1")
    try:
        intake = Intake(InboxRecorder(dead, Cipher(SECRET), no_crisis))
        results = await asyncio.gather(
            *(intake.submit(inbound("51999888777", "me siento solo")) for _ in range(3)),
            return_exceptions=True,
        )
    finally:
        dead.dispose()
    assert all(isinstance(r, IntakeUnavailable) for r in results)
    logged = [r for r in caplog.records if r.name == "bot.channels.intake"]
    assert logged and logged[0].error == "OperationalError"  # type: ignore[attr-defined]
    text = " ".join(f"{r.getMessage()} {r.__dict__}" for r in logged)
    assert "51999888777" not in text and "solo" not in text


async def test_a_refused_row_fails_alone_and_is_logged_without_its_content(
    db: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL refuses a provider id longer than its column; the others of the batch are
    recorded, and the log names the error, not the message."""
    if db.dialect.name != "postgresql":
        pytest.skip("SQLite does not enforce column lengths")
    intake = Intake(InboxRecorder(db, Cipher(SECRET), no_crisis))
    bad = inbound("51999888777", "me siento solo", mid="x" * 70)
    good = [inbound("51999888776", "hola") for _ in range(3)]
    results = await asyncio.gather(
        *(intake.submit(d) for d in [*good, bad]), return_exceptions=True
    )
    assert [isinstance(r, IntakeUnavailable) for r in results] == [False, False, False, True]
    assert len(rows(db)) == 3
    logged = [r for r in caplog.records if r.name == "bot.channels.intake"]
    assert any(getattr(r, "error", "") == "DataError" for r in logged)
    text = " ".join(f"{r.getMessage()} {r.__dict__}" for r in logged)
    assert "51999888777" not in text and "solo" not in text


def crisis_words(text: str) -> object | None:
    """A detector that, like the real one, expects a string."""
    return "crisis" if "matar" in text.lower() else None


async def test_content_of_the_wrong_type_never_fails_its_batch(db: Engine) -> None:
    intake = Intake(InboxRecorder(db, Cipher(SECRET), crisis_words))  # type: ignore[arg-type]
    odd: list[Any] = [["me", "quiero", "matar"], {"t": 1}, 7, None, b"bytes"]
    bad = [inbound("777", text=value, mid=f"bad{n}") for n, value in enumerate(odd)]
    bad.append(inbound("777", text="ok", payload={"p": 1}, mid="badpayload"))  # type: ignore[arg-type]
    good = [inbound(f"5{n}", f"hola {n}", mid=f"good{n}") for n in range(30)]
    results = await asyncio.gather(*(intake.submit(m) for m in [*good[:15], *bad, *good[15:]]))
    assert all(r.inbound_id is not None for r in results)
    recorded = {row.provider_message_id: row for row in rows(db)}
    assert all(recorded[m.provider_message_id].text == m.text for m in good)
    for message in bad:
        row = recorded[message.provider_message_id]
        assert row.kind == "unsupported" and row.text is None and row.payload is None
