"""The safety plan a waiting person built in the chat is on the case page, behind login."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.escalation import service
from bot.escalation.models import Case
from bot.runtime import Runtime
from tests.dashboard.conftest import sign_in
from tests.dashboard.people import phq9, say, to_menu

CHAT = "5550009999"


def test_the_case_page_shows_the_safety_plan_in_the_persons_words(
    client: TestClient, admin: str, runtime: Runtime, db: Engine
) -> None:
    conversations = runtime.conversations
    to_menu(conversations, CHAT)
    phq9(conversations, CHAT, [0, 0, 0, 0, 0, 0, 0, 0, 2])  # item 9: waits for a human
    service.ingest_signals(runtime.escalation)
    say(conversations, CHAT, "1", "no dormir", "caminar", "mi prima", "Rosa", "paso", "llaves")
    with Session(db) as session:
        case_id = session.exec(select(Case)).one().id
    assert "no dormir" not in client.get(f"/dashboard/cases/{case_id}").text  # login first
    sign_in(client, admin)
    page = client.get(f"/dashboard/cases/{case_id}").text
    assert "Plan de seguridad (en palabras de la persona)" in page
    assert "Señales de alerta</strong>: no dormir" in page
    assert "Entorno más seguro (medios)</strong>: llaves" in page
    assert "sin respuesta" in page  # the skipped step
    assert "Plan de seguridad guardado" in page  # in the case's history
