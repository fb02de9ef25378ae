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


def start(client: TestClient) -> str:
    """A conversation id issued by the server."""
    response = client.post("/simulator/api/conversations")
    assert response.status_code == 200, response.text
    conversation: str = response.json()["conversation"]
    return conversation


def send(
    client: TestClient, conversation: str, text: str, mid: str, payload: str | None = None
) -> dict:  # type: ignore[type-arg]
    response = client.post(
        "/simulator/api/messages",
        json={"conversation": conversation, "message_id": mid, "text": text, "payload": payload},
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_root_leads_to_the_simulator(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 307 and response.headers["location"] == "/simulator"
    assert "Simulador" in client.get("/simulator").text


def test_a_conversation_with_buttons(client: TestClient) -> None:
    conversation = start(client)
    welcome = send(client, conversation, "hola", "a1")
    language = welcome["replies"][-1]
    assert [c["payload"] for c in language["choices"]] == ["lang:es", "lang:en"]
    consent = send(client, conversation, "", "a2", payload="lang:en")
    assert consent["replies"][-1]["choices"][0]["payload"] == "consent:yes"
    menu = send(client, conversation, "", "a3", payload="consent:yes")
    assert "What would you like to do?" in menu["replies"][-1]["text"]
    first = send(client, conversation, "", "a4", payload="menu:depression")
    assert "Question 1 of 9" in first["replies"][-1]["text"]


def test_a_repeated_message_id_is_a_duplicate(client: TestClient) -> None:
    conversation = start(client)
    assert not send(client, conversation, "hola", "b1")["duplicate"]
    again = send(client, conversation, "hola", "b1")
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
    if body.get("conversation") == "ok":
        body = {**body, "conversation": start(client)}
    response = client.post("/simulator/api/messages", json=body)
    assert response.status_code == 422
    assert response.json()["detail"]


def test_not_json_is_refused(client: TestClient) -> None:
    response = client.post(
        "/simulator/api/messages", content=b"{oops", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422


def test_conversation_ids_are_issued_by_the_server_and_unguessable(client: TestClient) -> None:
    first, second = start(client), start(client)
    assert first != second and len(first) == 64
    made_up = {"conversation": "web-1", "message_id": "m1", "text": "me quiero matar"}
    refused = client.post("/simulator/api/messages", json=made_up)
    assert refused.status_code == 404
    assert "POST /simulator/api/conversations" in refused.json()["detail"]
    forged = first[:32] + ("0" if first[32] != "0" else "1") + first[33:]
    refused = client.post("/simulator/api/messages", json={**made_up, "conversation": forged})
    assert refused.status_code == 404
    assert not send(client, second, "hola", "m2")["duplicate"]


def test_the_simulator_is_rate_limited(db: Engine, database_url: str) -> None:
    settings = load_settings(
        database_url=database_url, run_workers_in_server=False, simulator_rate_limit=3
    )
    runtime = build_runtime(settings, db=db)
    with TestClient(create_app(settings, runtime=runtime)) as client:
        conversation = start(client)
        for n in range(2):
            send(client, conversation, "hola", f"r{n}")
        limited = client.post(
            "/simulator/api/messages",
            json={"conversation": conversation, "message_id": "r9", "text": "hola"},
        )
        assert limited.status_code == 429 and limited.headers["retry-after"] == "60"


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200
