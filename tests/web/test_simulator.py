"""The simulator's page and API, in-process, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bot.runtime import build_runtime
from bot.settings import load_settings
from bot.web.app import create_app


@pytest.fixture
def client(db: Engine, database_url: str) -> Iterator[TestClient]:
    settings = load_settings(database_url=database_url, run_workers_in_server=False)
    runtime = build_runtime(settings, db=db)
    with TestClient(create_app(settings, runtime=runtime)) as test_client:
        yield test_client


def send(client: TestClient, text: str, mid: str, payload: str | None = None) -> dict:  # type: ignore[type-arg]
    response = client.post(
        "/simulator/api/messages",
        json={"conversation": "web-1", "message_id": mid, "text": text, "payload": payload},
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_root_leads_to_the_simulator(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 307 and response.headers["location"] == "/simulator"
    assert "Simulador" in client.get("/simulator").text


def test_a_conversation_with_buttons(client: TestClient) -> None:
    welcome = send(client, "hola", "a1")
    language = welcome["replies"][-1]
    assert [c["payload"] for c in language["choices"]] == ["lang:es", "lang:en"]
    consent = send(client, "", "a2", payload="lang:en")
    assert consent["replies"][-1]["choices"][0]["payload"] == "consent:yes"
    menu = send(client, "", "a3", payload="consent:yes")
    assert "What would you like to do?" in menu["replies"][-1]["text"]
    first = send(client, "", "a4", payload="menu:depression")
    assert "Question 1 of 9" in first["replies"][-1]["text"]


def test_a_repeated_message_id_is_a_duplicate(client: TestClient) -> None:
    assert not send(client, "hola", "b1")["duplicate"]
    again = send(client, "hola", "b1")
    assert again == {"duplicate": True, "replies": []}


@pytest.mark.parametrize(
    "body",
    [
        {"text": "hola"},
        {"conversation": "", "message_id": "x", "text": "hola"},
        {"conversation": "a b", "message_id": "x", "text": "hola"},
        {"conversation": "ok", "message_id": "x", "text": "x" * 20_001},
    ],
)
def test_bad_requests_get_a_clear_error(client: TestClient, body: dict) -> None:  # type: ignore[type-arg]
    response = client.post("/simulator/api/messages", json=body)
    assert response.status_code == 422
    assert response.json()["detail"]


def test_not_json_is_refused(client: TestClient) -> None:
    response = client.post(
        "/simulator/api/messages", content=b"{oops", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200
