"""Fixtures for the dashboard: the real app in-process, accounts, signing in."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bot.dashboard.accounts import Accounts
from bot.runtime import Runtime, build_runtime
from bot.settings import load_settings
from bot.web.app import create_app

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Sign in through the login form; returns the session's CSRF token."""
    form = client.get("/dashboard/login")
    assert form.status_code == 200
    response = client.post(
        "/dashboard/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    page = client.get("/dashboard")
    assert page.status_code == 200
    return csrf_of(page.text)


@pytest.fixture
def runtime(db: Engine, database_url: str) -> Runtime:
    settings = load_settings(database_url=database_url, run_workers_in_server=False)
    return build_runtime(settings, db=db)


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime.settings, runtime=runtime)) as test_client:
        yield test_client


@pytest.fixture
def accounts(db: Engine) -> Accounts:
    return Accounts(db)


@pytest.fixture
def admin(accounts: Accounts) -> str:
    accounts.create_user("ana", PASSWORD, "admin")
    return "ana"


@pytest.fixture
def psychologist(accounts: Accounts) -> str:
    accounts.create_user("luis", PASSWORD, "psychologist", psychologist_id="luis")
    return "luis"


@pytest.fixture
def other_client(runtime: Runtime) -> Callable[[], TestClient]:
    """A second browser on the same app (its own cookies)."""

    def make() -> TestClient:
        return TestClient(create_app(runtime.settings, runtime=runtime))

    return make
