"""Every request answers within a bound when the database does not: the webhooks 503 with
``Retry-After`` and ``/readyz`` says so, against a database that accepts connections and
never answers (a silent loopback socket) and against a SQLite database whose lock is held."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import httpx
from sqlalchemy import Engine
from sqlmodel import SQLModel

from bot.channels.twilio import status as twilio_status
from bot.db.engine import Timeouts, make_engine, timeouts_of
from tests.fakes.silent_server import silent_server
from tests.web.webhooks_support import (
    PUBLIC_BASE_URL,
    make_settings,
    post_twilio,
    post_update,
    running_app,
    text_update,
    twilio_form,
)

STATUS_URL = f"{PUBLIC_BASE_URL}{twilio_status.PATH}"


def status_form(sid: str) -> dict[str, str]:
    return {"MessageSid": sid, "MessageStatus": "delivered", "AccountSid": "AC" + "0" * 32}


async def every_route(client: httpx.AsyncClient) -> list[httpx.Response]:
    """Telegram, WhatsApp and status-callback posts and readiness checks, all at once."""
    requests = [
        *(post_update(client, text_update(700 + n, "hola")) for n in range(4)),
        *(post_twilio(client, twilio_form(f"whatsapp:+5199900000{n}", "hola")) for n in range(4)),
        *(
            post_twilio(
                client,
                status_form(f"SM{n:032x}"),
                signed_url=STATUS_URL,
                path=twilio_status.PATH,
            )
            for n in range(2)
        ),
        client.get("/readyz"),
        client.get("/readyz"),
    ]
    return list(await asyncio.gather(*requests))


async def test_a_database_that_never_answers_gets_503_within_the_bound() -> None:
    with silent_server() as server:
        url = f"postgresql+psycopg://postgres@127.0.0.1:{server.port}/test"
        settings = make_settings(url, database_connect_timeout=2, request_timeout=3)
        db = make_engine(url, timeouts=timeouts_of(settings))
        try:
            async with running_app(settings, db) as running:
                started = time.monotonic()
                responses = await every_route(running.client)
                elapsed = time.monotonic() - started
        finally:
            db.dispose()
        assert server.accepted >= 1  # the service did reach the silent database
    assert elapsed < settings.request_timeout + 1.5, elapsed
    assert [r.status_code for r in responses] == [503] * len(responses)
    webhooks, readiness = responses[:-2], responses[-2:]
    assert all(r.headers["retry-after"] == "5" for r in webhooks)
    assert all(r.json()["database"] in ("timeout", "unreachable") for r in readiness)


async def test_the_readiness_check_reports_a_hanging_database() -> None:
    with silent_server() as server:
        url = f"postgresql+psycopg://postgres@127.0.0.1:{server.port}/test"
        # The connect timeout is longer than the request's: the request's bound answers.
        settings = make_settings(url, database_connect_timeout=30, request_timeout=1)
        db = make_engine(url, timeouts=timeouts_of(settings))
        try:
            async with running_app(settings, db) as running:
                started = time.monotonic()
                response = await running.client.get("/readyz")
                elapsed = time.monotonic() - started
        finally:
            db.dispose()
    assert elapsed < 2.5, elapsed
    assert response.status_code == 503 and response.json()["database"] == "timeout"


async def test_a_locked_sqlite_database_gets_503_within_the_bound(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    url = f"sqlite:///{path}"
    db: Engine = make_engine(url, timeouts=Timeouts(statement=3))
    SQLModel.metadata.create_all(db)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process's writer, holding the lock
    try:
        settings = make_settings(url, request_timeout=1)
        async with running_app(settings, db) as running:
            started = time.monotonic()
            responses = (await every_route(running.client))[:-2]
            elapsed = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        db.dispose()
    assert elapsed < 2.5, elapsed
    assert [r.status_code for r in responses] == [503] * len(responses)
    assert all(r.headers["retry-after"] == "5" for r in responses)
