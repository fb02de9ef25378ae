"""GET /readyz: the database, the background loops of this process, and paging."""

from __future__ import annotations

import asyncio
from pathlib import Path
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
        assert response.json() == {
            "status": "ok",
            "database": "ok",
            "loops": loops,
            "paging": {"status": "ok", "problems": []},
        }


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


async def test_nobody_reachable_makes_the_service_unready_with_the_reason(
    db: Engine, database_url: str, tmp_path: Path
) -> None:
    roster = tmp_path / "oncall.yaml"
    roster.write_text(
        "psychologists:\n  - {id: ana, name: Ana, contacts: {sms: '+15555550101'}}\n",
        encoding="utf-8",
    )
    # Telegram and WhatsApp are configured, SMS is not: nobody can be paged
    async with running_app(make_settings(database_url, oncall_file=roster), db) as running:
        response = await running.client.get("/readyz")
        metrics = (await running.client.get("/metrics")).text
    assert response.status_code == 503
    paging = response.json()["paging"]
    assert paging["status"] == "alarm"
    assert "nobody reachable for imminent cases right now" in paging["problems"]
    assert "bot_paging_alarm 1" in metrics
    assert 'bot_oncall_nobody_reachable{priority="imminent"} 1' in metrics


async def test_without_any_alert_channel_development_is_ready_with_paging_off(
    db: Engine, database_url: str
) -> None:
    settings = make_settings(
        database_url, telegram_bot_token=None, twilio_account_sid=None, twilio_auth_token=None
    )
    async with running_app(settings, db) as running:
        response = await running.client.get("/readyz")
        metrics = (await running.client.get("/metrics")).text
    assert response.status_code == 200
    assert response.json()["paging"]["status"] == "off"
    assert "bot_paging_alarm 0" in metrics
