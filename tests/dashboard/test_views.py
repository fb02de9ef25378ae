"""The queue, the case page and the case actions, in-process, on SQLite and PostgreSQL.

Cases are made the real way: a person talks to the bot (``ConversationService.handle`` on
the telegram channel) and the escalation service turns the risk signals into cases.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.db.models import OutboundMessage
from bot.escalation import service
from bot.escalation.models import Case, CaseEvent
from bot.runtime import Runtime
from tests.dashboard.conftest import sign_in
from tests.dashboard.people import phq9, say, to_menu

CRISIS_CHAT = "5550001234"
PHQ_CHAT = "5550005678"


@dataclass
class World:
    imminent: int
    high: int


def _case_of(db: Engine, priority: str) -> int:
    with Session(db) as session:
        case = session.exec(select(Case).where(Case.priority == priority)).one()
    return case.id or 0


@pytest.fixture
def world(runtime: Runtime, db: Engine) -> World:
    conversations = runtime.conversations
    to_menu(conversations, PHQ_CHAT)
    phq9(conversations, PHQ_CHAT, [2, 2, 1, 3, 1, 2, 1, 0, 1])  # item 9 = 1: high
    to_menu(conversations, CRISIS_CHAT)
    say(conversations, CRISIS_CHAT, "ya no quiero seguir viviendo", "1")  # and "yes, now"
    service.ingest_signals(runtime.escalation)
    return World(imminent=_case_of(db, "imminent"), high=_case_of(db, "high"))


def _events(db: Engine, case_id: int) -> list[tuple[str, str | None]]:
    with Session(db) as session:
        rows = session.exec(
            select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
        )
        return [(e.kind, e.actor) for e in rows]


def test_the_queue_puts_the_most_urgent_first(client: TestClient, admin: str, world: World) -> None:
    sign_in(client, admin)
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert page.text.index(f'data-case="{world.imminent}"') < page.text.index(
        f'data-case="{world.high}"'
    )
    assert "Inminente" in page.text and "Alta" in page.text
    rows = client.get("/dashboard/queue/rows", headers={"X-Dashboard-Poll": "1"})
    assert rows.status_code == 200 and "<html" not in rows.text
    assert f'data-case="{world.imminent}"' in rows.text
    assert CRISIS_CHAT not in page.text and PHQ_CHAT not in page.text


def test_queue_filters(client: TestClient, admin: str, world: World) -> None:
    sign_in(client, admin)
    high = client.get("/dashboard?priority=high")
    assert f'data-case="{world.high}"' in high.text
    assert f'data-case="{world.imminent}"' not in high.text
    assert 'data-poll="/dashboard/queue/rows?priority=high"' in high.text
    rows = client.get("/dashboard/queue/rows?priority=high&channel=whatsapp")
    assert "data-case=" not in rows.text
    weird = client.get("/dashboard?priority=<script>&status=x&channel=' OR 1=1&mine=yes")
    assert weird.status_code == 200 and "<script>" not in weird.text
    assert f'data-case="{world.imminent}"' in weird.text


def test_the_case_page_shows_screenings_transcript_and_history_and_is_audited(
    client: TestClient, admin: str, world: World, db: Engine
) -> None:
    sign_in(client, admin)
    page = client.get(f"/dashboard/cases/{world.high}")
    assert page.status_code == 200
    assert "PHQ-9" in page.text and "puntaje 13/27" in page.text and "moderado" in page.text
    assert "Pensamientos de que estaría mejor muerto(a)" in page.text  # item 9's question
    assert "Varios días" in page.text  # its answer
    assert "ideación suicida" in page.text
    assert "Caso abierto" in page.text  # the history
    assert PHQ_CHAT not in page.text
    assert ("viewed", "dashboard:ana") in _events(db, world.high)
    polls = client.get(f"/dashboard/cases/{world.high}/messages", headers={"X-Dashboard-Poll": "1"})
    assert "msg person" in polls.text
    client.get(f"/dashboard/cases/{world.high}/timeline", headers={"X-Dashboard-Poll": "1"})
    assert _events(db, world.high).count(("viewed", "dashboard:ana")) == 1  # polls are not views


def test_crisis_case_quotes_the_message(client: TestClient, admin: str, world: World) -> None:
    sign_in(client, admin)
    page = client.get(f"/dashboard/cases/{world.imminent}")
    assert "ya no quiero seguir viviendo" in page.text


def test_reveal_is_explicit_and_audited(
    client: TestClient, admin: str, world: World, db: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    csrf = sign_in(client, admin)
    with caplog.at_level(logging.DEBUG):
        revealed = client.post(
            f"/dashboard/cases/{world.imminent}/reveal", data={"csrf_token": csrf}
        )
    assert revealed.status_code == 200 and CRISIS_CHAT in revealed.text
    assert ("revealed", "dashboard:ana") in _events(db, world.imminent)
    assert CRISIS_CHAT not in client.get(f"/dashboard/cases/{world.imminent}").text
    assert all(CRISIS_CHAT not in r.getMessage() for r in caplog.records)


def test_acknowledge_write_and_resolve(
    client: TestClient, psychologist: str, world: World, db: Engine
) -> None:
    csrf = sign_in(client, psychologist)
    ack = client.post(
        f"/dashboard/cases/{world.imminent}/acknowledge",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert ack.status_code == 303
    assert ack.headers["location"] == f"/dashboard/cases/{world.imminent}?msg=acknowledged"
    again = client.post(f"/dashboard/cases/{world.imminent}/acknowledge", data={"csrf_token": csrf})
    assert "Otra persona ya asumió" in again.text
    mine = client.get("/dashboard?mine=1")
    assert f'data-case="{world.imminent}"' in mine.text
    assert f'data-case="{world.high}"' not in mine.text

    empty = client.post(
        f"/dashboard/cases/{world.imminent}/messages", data={"csrf_token": csrf, "text": "  "}
    )
    assert "Escribe un mensaje" in empty.text
    sent = client.post(
        f"/dashboard/cases/{world.imminent}/messages",
        data={
            "csrf_token": csrf,
            "text": "Hola, soy Luis, psicólogo del programa. ¿Estás a salvo?",
        },
    )
    assert sent.status_code == 200 and "en cola" in sent.text
    with Session(db) as session:
        out = session.exec(
            select(OutboundMessage).where(OutboundMessage.purpose == "psychologist_message")
        ).one()
        case = session.get(Case, world.imminent)
    assert "¿Estás a salvo?" in out.text and out.channel == "telegram"
    assert case is not None and case.status == "in_conversation" and case.acknowledged_by == "luis"
    transcript = client.get(f"/dashboard/cases/{world.imminent}/messages")
    assert "msg staff" in transcript.text and "¿Estás a salvo?" in transcript.text

    no_outcome = client.post(
        f"/dashboard/cases/{world.imminent}/resolve", data={"csrf_token": csrf, "note": "x"}
    )
    assert "Elige un resultado" in no_outcome.text
    done = client.post(
        f"/dashboard/cases/{world.imminent}/resolve",
        data={"csrf_token": csrf, "outcome": "referred_csmc", "note": "Cita en el CSMC mañana"},
    )
    assert "Caso cerrado" in done.text
    with Session(db) as session:
        case = session.get(Case, world.imminent)
    assert case is not None and (case.status, case.outcome, case.note) == (
        "resolved",
        "referred_csmc",
        "Cita en el CSMC mañana",
    )
    kinds = [k for k, _ in _events(db, world.imminent)]
    assert {"acknowledged", "message_to_person", "resolved"} <= set(kinds)
    assert f'data-case="{world.imminent}"' not in client.get("/dashboard").text


def test_an_account_whose_roster_id_is_unknown_cannot_act(
    client: TestClient, accounts, world: World
) -> None:
    accounts.create_user("pedro", "correct horse battery staple", "psychologist",
                         psychologist_id="not-in-roster")  # fmt: skip
    csrf = sign_in(client, "pedro")
    refused = client.post(f"/dashboard/cases/{world.high}/acknowledge", data={"csrf_token": csrf})
    assert "No puedes hacer esto" in refused.text


def test_unknown_cases_are_404_not_errors(client: TestClient, admin: str, world: World) -> None:
    csrf = sign_in(client, admin)
    for path in ("/dashboard/cases/987654", "/dashboard/cases/987654/messages",
                 "/dashboard/cases/987654/timeline"):  # fmt: skip
        assert client.get(path).status_code == 404
    for action in ("acknowledge", "reveal", "messages", "resolve"):
        response = client.post(
            f"/dashboard/cases/987654/{action}",
            data={"csrf_token": csrf, "text": "hola", "outcome": "contacted"},
        )
        assert response.status_code == 404, action
    assert client.get("/dashboard/cases/-1").status_code == 422
    assert client.get("/dashboard/cases/99999999999999999999999").status_code == 422


def test_roster_page(client: TestClient, psychologist: str) -> None:
    sign_in(client, psychologist)
    page = client.get("/dashboard/roster")
    assert page.status_code == 200
    assert "Ana Ejemplo (ficticia)" in page.text and "Cadena de escalamiento" in page.text
    # no channel is configured in these tests: nobody can be alerted
    assert 'id="unreachable"' in page.text


def test_ui_strings_match_across_languages_and_a_broken_file_is_named(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil
    from pathlib import Path

    from bot.dashboard.i18n import CatalogError, load_strings

    config = Path(__file__).resolve().parents[2] / "config"
    strings = load_strings(config)
    assert set(strings["es"].texts) == set(strings["en"].texts)
    (tmp_path / "messages").mkdir()
    for lang in ("es", "en"):
        shutil.copy(config / "messages" / f"dashboard.{lang}.yaml", tmp_path / "messages")
    english = tmp_path / "messages" / "dashboard.en.yaml"
    english.write_text(
        english.read_text(encoding="utf-8").replace("in {time}", "in {tiempo}"), encoding="utf-8"
    )
    with pytest.raises(CatalogError, match=r"dashboard\.en\.yaml: queue\.in"):
        load_strings(tmp_path)
