"""Security headers on every response: dashboard pages and unknown dashboard paths (404),
the simulator (a policy allowing only its own inline blocks, by hash), health."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bot.runtime import build_runtime
from bot.settings import load_settings
from bot.web import simulator
from bot.web.app import create_app

BASELINE = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


@pytest.fixture
def client(db: Engine, database_url: str) -> Iterator[TestClient]:
    settings = load_settings(database_url=database_url, run_workers_in_server=False)
    runtime = build_runtime(settings, db=db)
    with TestClient(create_app(settings, runtime=runtime)) as test_client:
        yield test_client


def _assert_secure(response: object, path: str) -> str:
    headers = response.headers  # type: ignore[attr-defined]
    for name, value in BASELINE.items():
        assert headers.get(name) == value, (path, name)
    policy = headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy, path
    return str(policy)


@pytest.mark.parametrize(
    "path",
    ["/dashboard/no-such-page", "/dashboard/static/nothing.css", "/nowhere", "/healthz"],
)
def test_every_response_carries_the_headers(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    policy = _assert_secure(response, path)
    assert "script-src 'self'" in policy


def test_the_simulator_allows_only_its_own_inline_blocks(client: TestClient) -> None:
    page = client.get("/simulator")
    policy = _assert_secure(page, "/simulator")
    blocks = re.findall(r"<(script|style)>(.*?)</\1>", simulator.PAGE, re.DOTALL)
    assert blocks
    for _kind, body in blocks:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy
    api = client.post("/simulator/api/messages", json={})
    _assert_secure(api, "/simulator/api/messages")
