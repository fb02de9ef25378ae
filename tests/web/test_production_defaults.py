"""Production is closed by default: the simulator (off, or for signed-in staff with a rate
limit) and ``/metrics`` (a bearer token or an address allow-list)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bot.dashboard.accounts import Accounts
from bot.runtime import build_runtime
from bot.settings import Settings
from tests.dashboard.conftest import PASSWORD, sign_in
from tests.web.webhooks_support import make_settings, running_app

SECRET_KEY = "production-tests-secret-key-0123456789abcdef"
METRICS_TOKEN = "metrics-token-0123456789abcdef-0123456789"
CRISIS = "me quiero matar"


def production(database_url: str, **overrides: Any) -> Settings:
    return make_settings(database_url, environment="production", secret_key=SECRET_KEY, **overrides)


def app_client(settings: Settings, db: Engine) -> TestClient:
    from bot.web.app import create_app

    runtime = build_runtime(settings, db=db)
    # PUBLIC_BASE_URL is https in production, so the session cookie is Secure.
    return TestClient(create_app(settings, runtime=runtime), base_url="https://testserver")


@pytest.fixture
def staff(db: Engine) -> str:
    Accounts(db).create_user("ana", PASSWORD, "psychologist", psychologist_id="ana")
    return "ana"


def test_the_simulator_is_off_in_production_by_default(db: Engine, database_url: str) -> None:
    with app_client(production(database_url), db) as client:
        for path in ("/simulator", "/dashboard/simulator", "/simulator/api/conversations"):
            assert client.get(path).status_code in (404, 405), path
        body = {"conversation": "x1", "message_id": "m1", "text": CRISIS}
        assert client.post("/simulator/api/messages", json=body).status_code == 404
        assert client.post("/dashboard/simulator/api/messages", json=body).status_code == 404
        assert client.get("/", follow_redirects=False).status_code == 404


def test_enabled_in_production_it_needs_a_session(
    db: Engine, database_url: str, staff: str
) -> None:
    settings = production(database_url, simulator_enabled=True)
    with app_client(settings, db) as client:
        assert client.post("/simulator/api/conversations").status_code == 404
        assert client.post("/dashboard/simulator/api/conversations").status_code == 401
        page = client.get("/dashboard/simulator", follow_redirects=False)
        assert page.status_code == 303
        assert page.headers["location"].startswith("/dashboard/login?next=")
        sign_in(client, staff)
        assert "Simulador" in client.get("/dashboard/simulator").text
        started = client.post("/dashboard/simulator/api/conversations")
        conversation = started.json()["conversation"]
        body = {"conversation": conversation, "message_id": "m1", "text": "hola"}
        reply = client.post("/dashboard/simulator/api/messages", json=body)
        assert reply.status_code == 200 and reply.json()["replies"]
        made_up = {**body, "conversation": "a" * 64, "message_id": "m2", "text": CRISIS}
        assert client.post("/dashboard/simulator/api/messages", json=made_up).status_code == 404


def test_enabled_in_production_it_is_rate_limited_per_account(
    db: Engine, database_url: str, staff: str
) -> None:
    settings = production(database_url, simulator_enabled=True, simulator_rate_limit=4)
    with app_client(settings, db) as client:
        sign_in(client, staff)
        codes = [
            client.post("/dashboard/simulator/api/conversations").status_code for _ in range(6)
        ]
        assert codes == [200, 200, 200, 200, 429, 429]


def test_an_id_issued_to_one_account_is_refused_to_another(
    db: Engine, database_url: str, staff: str
) -> None:
    Accounts(db).create_user("luis", PASSWORD, "psychologist", psychologist_id="luis")
    settings = production(database_url, simulator_enabled=True)
    with app_client(settings, db) as ana, app_client(settings, db) as luis:
        sign_in(ana, staff)
        sign_in(luis, "luis")
        conversation = ana.post("/dashboard/simulator/api/conversations").json()["conversation"]
        body = {"conversation": conversation, "message_id": "m1", "text": "hola"}
        assert luis.post("/dashboard/simulator/api/messages", json=body).status_code == 404


# --- /metrics ----------------------------------------------------------------------------------


@pytest.fixture
def sqlite_only(database_url: str) -> Iterator[None]:
    if not database_url.startswith("sqlite"):
        pytest.skip("about HTTP access, not the database")
    yield


@pytest.mark.usefixtures("sqlite_only")
async def test_metrics_are_closed_in_production_without_a_token(
    db: Engine, database_url: str
) -> None:
    async with running_app(production(database_url), db) as running:
        assert (await running.client.get("/metrics")).status_code == 403
    async with running_app(make_settings(database_url), db) as running:  # development: open
        assert (await running.client.get("/metrics")).status_code == 200


@pytest.mark.usefixtures("sqlite_only")
async def test_metrics_need_the_bearer_token(db: Engine, database_url: str) -> None:
    async with running_app(production(database_url, metrics_token=METRICS_TOKEN), db) as running:
        client = running.client
        assert (await client.get("/metrics")).status_code == 401
        wrong = {"Authorization": "Bearer " + METRICS_TOKEN[:-1] + "x"}
        assert (await client.get("/metrics", headers=wrong)).status_code == 401
        right = {"Authorization": f"Bearer {METRICS_TOKEN}"}
        scraped = await client.get("/metrics", headers=right)
        assert scraped.status_code == 200 and "bot_database_up 1" in scraped.text


@pytest.mark.usefixtures("sqlite_only")
async def test_metrics_from_an_allowed_address(db: Engine, database_url: str) -> None:
    # httpx's in-process transport connects from 127.0.0.1.
    allowed = production(database_url, metrics_allowed_addresses="10.0.0.0/8, 127.0.0.1")
    async with running_app(allowed, db) as running:
        assert (await running.client.get("/metrics")).status_code == 200
    elsewhere = production(database_url, metrics_allowed_addresses="10.0.0.0/8")
    async with running_app(elsewhere, db) as running:
        assert (await running.client.get("/metrics")).status_code == 403
