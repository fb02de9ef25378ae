"""Sign-in throttling that neither leaks nor locks everyone out: per (address, username),
growing delays, addresses from TRUSTED_PROXIES only, and an admin (or the CLI) can unlock."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.cli import UVICORN_OPTIONS
from bot.dashboard import commands
from bot.dashboard.accounts import (
    FREE_FAILURES,
    MAX_DELAY,
    Accounts,
    LoginResult,
    throttle_delay,
)
from bot.dashboard.models import DashboardEvent
from bot.runtime import Runtime, build_runtime
from bot.settings import load_settings
from bot.web.app import create_app
from tests.dashboard.conftest import PASSWORD, csrf_of
from tests.fakes.server import BackgroundServer

WRONG = "not the password at all"
A, B = "198.51.100.7", "203.0.113.9"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clocked(db: Engine) -> tuple[Accounts, Clock]:
    clock = Clock()
    accounts = Accounts(db, clock=clock)
    accounts.create_user("ana", PASSWORD, "admin")
    accounts.create_user("luis", PASSWORD, "psychologist")
    return accounts, clock


def test_delays_grow_per_address_and_username_and_block_nobody_else(
    clocked: tuple[Accounts, Clock],
) -> None:
    accounts, clock = clocked
    for _ in range(FREE_FAILURES):
        assert accounts.sign_in("ana", WRONG, A).result is LoginResult.INVALID
    waits: list[float] = []
    for _ in range(4):
        refused = accounts.sign_in("ana", PASSWORD, A)  # too soon: not even checked
        assert refused.result is LoginResult.THROTTLED and refused.retry_after
        waits.append(refused.retry_after)
        clock.now += timedelta(seconds=refused.retry_after)
        assert accounts.sign_in("ana", WRONG, A).result is LoginResult.INVALID
    assert waits == sorted(waits) and waits[-1] >= 4 * waits[0]  # growing
    # Another address, or another username from the same address: not slowed at all.
    assert accounts.sign_in("ana", PASSWORD, B).result is LoginResult.OK
    assert accounts.sign_in("luis", PASSWORD, A).result is LoginResult.OK
    # Once the delay has passed, the right password works from A too; the delay is bounded.
    clock.now += timedelta(seconds=waits[-1] * 2)
    assert accounts.sign_in("ana", PASSWORD, A).result is LoginResult.OK
    assert throttle_delay(FREE_FAILURES + 1000) == MAX_DELAY


def test_unknown_usernames_are_throttled_the_same_way(clocked: tuple[Accounts, Clock]) -> None:
    accounts, _ = clocked
    for name in ("ana", "zoe"):
        results = [accounts.sign_in(name, WRONG, A).result for _ in range(FREE_FAILURES + 1)]
        assert results[-1] is LoginResult.THROTTLED, name  # nothing tells them apart


def test_an_admin_unlock_and_the_cli_let_every_address_try_again(
    clocked: tuple[Accounts, Clock], database_url: str
) -> None:
    accounts, clock = clocked
    for _ in range(FREE_FAILURES + 1):
        accounts.sign_in("luis", WRONG, A)
    assert accounts.sign_in("luis", PASSWORD, A).result is LoginResult.THROTTLED
    [luis] = [u for u in accounts.users() if u.username == "luis"]
    accounts.update_user(luis.id or 0, actor="ana", unlock=True)
    assert accounts.sign_in("luis", PASSWORD, A).result is LoginResult.OK
    clock.now += timedelta(seconds=1)
    for _ in range(FREE_FAILURES + 1):
        accounts.sign_in("luis", WRONG, B)
    assert accounts.sign_in("luis", PASSWORD, B).result is LoginResult.THROTTLED
    clock.now += timedelta(seconds=1)  # the CLI runs on the wall clock: after the failures
    settings = load_settings(database_url=database_url, run_workers_in_server=False)
    args = argparse.Namespace(username="LUIS")
    assert commands.unlock_user(settings, args) == 0
    assert accounts.sign_in("luis", PASSWORD, B).result is LoginResult.OK
    assert commands.unlock_user(settings, argparse.Namespace(username="nadie")) == 1


# --- the address, over HTTP --------------------------------------------------------------


def _runtime(db: Engine, database_url: str, trusted: str) -> Runtime:
    settings = load_settings(
        database_url=database_url, run_workers_in_server=False, trusted_proxies=trusted
    )
    Accounts(db).create_user("ana", PASSWORD, "admin")
    return build_runtime(settings, db=db)


def _post_login(client: httpx.Client | TestClient, password: str, forwarded: str) -> int:
    form = client.get("/dashboard/login")
    return client.post(
        "/dashboard/login",
        data={"username": "ana", "password": password, "csrf_token": csrf_of(form.text)},
        headers={"X-Forwarded-For": forwarded},
        follow_redirects=False,
    ).status_code


def _addresses(db: Engine) -> list[str | None]:
    with Session(db) as session:
        rows = session.exec(
            select(DashboardEvent)
            .where(col(DashboardEvent.kind).in_(["login_failed", "login"]))
            .order_by(col(DashboardEvent.id))
        )
        return [row.ip for row in rows]


def test_a_made_up_forwarded_for_from_loopback_changes_nothing(
    db: Engine, database_url: str
) -> None:
    runtime = _runtime(db, database_url, "")
    app = create_app(runtime.settings, runtime=runtime)
    with (
        BackgroundServer(app, options={**UVICORN_OPTIONS, "lifespan": "on"}) as server,
        httpx.Client(base_url=server.url) as client,
    ):
        for n in range(FREE_FAILURES):
            assert _post_login(client, WRONG, f"10.0.0.{n}") == 401
        # a new made-up address each time: still the same client, still slowed down
        response_status = _post_login(client, PASSWORD, "10.0.0.99")
        assert response_status == 429
    assert set(_addresses(db)) == {"127.0.0.1"}


def test_behind_a_trusted_proxy_each_client_is_throttled_on_its_own(
    db: Engine, database_url: str
) -> None:
    runtime = _runtime(db, database_url, "127.0.0.1, 10.0.0.0/8")
    app = create_app(runtime.settings, runtime=runtime)
    with TestClient(app, client=("127.0.0.1", 40000)) as client:
        for _ in range(FREE_FAILURES):
            # what the client wrote on the left proves nothing; the proxies' hops are skipped
            assert _post_login(client, WRONG, f"6.6.6.6, {A}, 10.1.2.3") == 401
        assert _post_login(client, PASSWORD, A) == 429
        assert _post_login(client, PASSWORD, B) == 303  # a colleague behind the same proxy
    assert _addresses(db) == [A, A, A, B]


def test_forwarded_for_from_an_untrusted_peer_is_ignored(db: Engine, database_url: str) -> None:
    runtime = _runtime(db, database_url, "10.0.0.0/8")
    app = create_app(runtime.settings, runtime=runtime)
    with TestClient(app, client=("192.0.2.50", 40000)) as client:
        assert _post_login(client, WRONG, A) == 401
    assert _addresses(db) == ["192.0.2.50"]


def test_a_throttled_sign_in_says_how_long_to_wait(db: Engine, database_url: str) -> None:
    runtime = _runtime(db, database_url, "")
    app = create_app(runtime.settings, runtime=runtime)
    with TestClient(app, client=("192.0.2.50", 40000)) as client:
        for _ in range(FREE_FAILURES):
            _post_login(client, WRONG, "")
        form = client.get("/dashboard/login")
        refused = client.post(
            "/dashboard/login",
            data={"username": "ana", "password": PASSWORD, "csrf_token": csrf_of(form.text)},
        )
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "Demasiados intentos fallidos con este usuario" in refused.text
