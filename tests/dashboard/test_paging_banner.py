"""Every dashboard page carries the paging banner while nobody can be paged."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bot.dashboard.accounts import Accounts
from bot.web.app import create_app
from tests.dashboard.conftest import PASSWORD, sign_in
from tests.escalation.support import Clock, Desk, make_settings, write_roster

PAGES = ("/dashboard", "/dashboard/roster", "/dashboard/reports", "/dashboard/users")
SMS_ONLY = {"psychologists": [{"id": "ana", "name": "Ana", "contacts": {"sms": "+15555550101"}}]}


@pytest.fixture
def roster(tmp_path: Path) -> Path:
    return write_roster(tmp_path / "oncall.yaml")


@pytest.fixture
def client(db: Engine, database_url: str, roster: Path) -> Iterator[TestClient]:
    desk = Desk.build(make_settings(database_url, roster), db, Clock())
    Accounts(db).create_user("ana", PASSWORD, "admin", psychologist_id="ana")
    with TestClient(create_app(desk.runtime.settings, runtime=desk.runtime)) as test_client:
        sign_in(test_client, "ana")
        yield test_client


def _touch(path: Path) -> None:
    later = time.time() + 5
    os.utime(path, (later, later))


def test_the_banner_appears_on_every_page_and_goes_when_fixed(
    client: TestClient, roster: Path
) -> None:
    for path in PAGES:
        assert 'data-paging="' not in client.get(path).text
    write_roster(roster, SMS_ONLY)  # nobody has a channel this service sends on
    _touch(roster)
    for path in PAGES:
        page = client.get(path)
        assert page.status_code == 200
        assert page.text.count('data-paging="nobody_reachable"') == 4, path
        assert "ALARMA: ahora nadie de turno puede recibir avisos" in page.text
        assert "prioridad Inminente" in page.text
    write_roster(roster)
    _touch(roster)
    assert 'data-paging="' not in client.get("/dashboard").text


def test_an_invalid_edit_is_shown_as_a_warning(client: TestClient, roster: Path) -> None:
    roster.write_text("psychologists: [{id: ana}]\n", encoding="utf-8")
    _touch(roster)
    page = client.get("/dashboard").text
    assert 'data-paging="roster_edit_invalid"' in page
    assert "psychologists.0.name" in page
    assert 'class="banner alarm"' not in page


def test_the_sign_in_page_shows_no_banner(db: Engine, database_url: str, tmp_path: Path) -> None:
    roster = write_roster(tmp_path / "oncall.yaml", SMS_ONLY)
    desk = Desk.build(make_settings(database_url, roster), db, Clock())
    with TestClient(create_app(desk.runtime.settings, runtime=desk.runtime)) as anonymous:
        assert 'data-paging="' not in anonymous.get("/dashboard/login").text
