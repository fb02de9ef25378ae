"""GET /readyz: the database and the background loops of this process."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.db.engine import make_engine
from bot.web import health
from tests.web.webhooks_support import make_settings, running_app


async def test_ready_when_the_database_answers_and_the_loops_tick(
    db: Engine, database_url: str
) -> None:
    settings = make_settings(database_url, run_workers_in_server=True)
    async with running_app(settings, db) as running:
        for _ in range(100):
            response = await running.client.get("/readyz")
            if response.status_code == 200:
                break
            await asyncio.sleep(0.02)
        assert response.status_code == 200
        loops = dict.fromkeys(running.app.state.workers.loops, "ok")
        assert "inbox" in loops and "outbox" in loops
        assert response.json() == {"status": "ok", "database": "ok", "loops": loops}


async def test_a_stalled_loop_makes_the_service_unready(
    db: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(database_url, run_workers_in_server=True)
    async with running_app(settings, db) as running:
        await running.app.state.workers.stop()  # the loops die
        monkeypatch.setattr(health, "LOOP_STALE_AFTER", 0.05)
        await asyncio.sleep(0.1)
        response = await running.client.get("/readyz")
        assert response.status_code == 503
        loops = running.app.state.workers.loops
        assert response.json()["loops"] == dict.fromkeys(loops, "stalled") and loops


async def test_loops_run_elsewhere_are_reported_external(db: Engine, database_url: str) -> None:
    async with running_app(make_settings(database_url), db) as running:
        response = await running.client.get("/readyz")
        assert response.status_code == 200
        loops = running.app.state.workers.loops
        assert response.json()["loops"] == dict.fromkeys(loops, "external") and loops


async def test_an_unreachable_database_makes_the_service_unready(tmp_path: Any) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'x.db'}")
    dead = make_engine("postgresql+psycopg://postgres@127.0.0.1:9/nowhere?connect_timeout=1")
    try:
        async with running_app(settings, dead) as running:
            response = await running.client.get("/readyz")
    finally:
        dead.dispose()
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"
