"""The simulator receives what is queued for the simulated person later: a psychologist's
message reaches the page, once, and the dashboard then shows it as delivered."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.db.models import OutboundMessage, Participant
from bot.escalation import service, timers
from bot.outbox.enums import Purpose
from bot.runtime import Runtime, build_runtime
from bot.settings import load_settings
from bot.web.app import create_app
from tests.escalation.support import write_roster


@pytest.fixture
def runtime(db: Engine, database_url: str, tmp_path: Path) -> Runtime:
    settings = load_settings(
        database_url=database_url,
        oncall_file=write_roster(tmp_path / "oncall.yaml"),
        run_workers_in_server=False,
    )
    return build_runtime(settings, db=db)


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime.settings, runtime=runtime)) as test_client:
        yield test_client


def start(client: TestClient) -> str:
    response = client.post("/simulator/api/conversations")
    assert response.status_code == 200, response.text
    return str(response.json()["conversation"])


def say(client: TestClient, conversation: str, *steps: tuple[str, str | None]) -> None:
    for i, (text, payload) in enumerate(steps):
        response = client.post(
            "/simulator/api/messages",
            json={
                "conversation": conversation,
                "message_id": f"{conversation[:40]}-{i}",
                "text": text,
                "payload": payload,
            },
        )
        assert response.status_code == 200, response.text


def inbox(client: TestClient, conversation: str) -> list[dict[str, object]]:
    response = client.post("/simulator/api/inbox", json={"conversation": conversation})
    assert response.status_code == 200, response.text
    return response.json()["messages"]  # type: ignore[no-any-return]


def test_a_psychologists_message_reaches_the_simulator_once(
    client: TestClient, runtime: Runtime
) -> None:
    sim_a, sim_b = start(client), start(client)
    say(
        client,
        sim_a,
        ("hola", None),
        ("", "consent:yes"),
        ("", "lang:es"),
        ("me quiero matar", None),
    )
    assert inbox(client, sim_a) == []  # the bot's answers came with the exchange
    timers.tick(runtime.escalation)
    [case] = service.open_cases(runtime.db)
    assert case.id is not None
    result = service.send_to_person(runtime.escalation, case.id, "ana", "¿Estás a salvo ahora?")
    assert result is service.ActionResult.SENT
    assert inbox(client, sim_b) == []  # somebody else's page gets nothing
    [message] = inbox(client, sim_a)
    assert message["sender"] == "psychologist"
    assert "¿Estás a salvo ahora?" in str(message["text"])
    assert inbox(client, sim_a) == []
    with Session(runtime.db) as session:
        row = session.exec(
            select(OutboundMessage).where(OutboundMessage.purpose == Purpose.PSYCHOLOGIST_MESSAGE)
        ).one()
    assert (row.status, row.sent_at is not None) == ("delivered", True)


def test_the_inbox_refuses_a_malformed_or_made_up_conversation(client: TestClient) -> None:
    response = client.post("/simulator/api/inbox", json={"conversation": "../etc"})
    assert response.status_code == 422
    made_up = client.post("/simulator/api/inbox", json={"conversation": "somebody-else"})
    assert made_up.status_code == 404


def test_any_later_message_from_the_bot_arrives_too(client: TestClient, runtime: Runtime) -> None:
    sim_c = start(client)
    say(client, sim_c, ("hola", None))
    recipient = runtime.cipher.lookup_hash("sim", sim_c)
    with Session(runtime.db) as session:
        person = session.exec(
            select(Participant).where(Participant.external_hash == recipient)
        ).one()
        session.add(
            OutboundMessage(
                participant_id=person.id, channel="sim", recipient_hash=recipient,
                purpose="checkin", text="Hola de nuevo, ¿cómo te has sentido esta semana?",
                choices=[{"key": "1", "label": "Bien", "payload": "checkin:good"}],
                status="pending",
            )
        )  # fmt: skip
        session.commit()
    [message] = inbox(client, sim_c)
    assert message["sender"] == "bot"
    assert message["choices"] == [{"key": "1", "label": "Bien", "payload": "checkin:good"}]
