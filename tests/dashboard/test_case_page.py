"""The case page read at a glance: reasons in words, alerts, the person's past, internal
notes, handing over, prepared replies, and 'viewed' audited once per 10 minutes."""

from __future__ import annotations

import html
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.dashboard.accounts import Accounts
from bot.dashboard.i18n import CatalogError
from bot.dashboard.models import CaseNote
from bot.dashboard.replies import load_replies
from bot.escalation import service
from bot.web.app import create_app
from tests.dashboard.conftest import PASSWORD, csrf_of, sign_in
from tests.escalation.support import (
    LUIS,
    PERSON,
    ROSTER,
    T0,
    Clock,
    Desk,
    make_settings,
    write_roster,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def desk(db: Engine, database_url: str, tmp_path: Path) -> Desk:
    roster = write_roster(tmp_path / "oncall.yaml")
    return Desk.build(make_settings(database_url, roster), db, Clock(T0))


@pytest.fixture
def client(desk: Desk) -> Iterator[TestClient]:
    Accounts(desk.db).create_user("ana", PASSWORD, "psychologist", psychologist_id="ana")
    with TestClient(create_app(desk.runtime.settings, runtime=desk.runtime)) as test_client:
        sign_in(test_client, "ana")
        yield test_client


def _case_id(desk: Desk) -> int:
    return desk.cases()[-1].id or 0


def _phq9(desk: Desk, answers: list[int]) -> None:
    desk.say(PERSON, "1", *[str(a) for a in answers])


def test_reasons_are_words_in_the_reader_s_language_with_the_rule_on_hover(
    client: TestClient, desk: Desk
) -> None:
    desk.to_menu()
    _phq9(desk, [1, 1, 1, 1, 1, 1, 1, 1, 3])
    desk.tick()
    case_id = _case_id(desk)
    phq9 = desk.runtime.content.instruments["phq9"]
    item9 = next(i for i in phq9.items if i.id == "phq9_9")
    answer = next(o for o in phq9.options_for(item9) if o.value == 3)
    page = html.unescape(client.get(f"/dashboard/cases/{case_id}").text)
    assert item9.text.get("es")[:40] in page and answer.label.get("es") in page
    assert 'title="Regla: phq9.' in page
    queue = html.unescape(client.get("/dashboard").text)
    assert item9.text.get("es")[:40] in queue
    client.cookies.set("dash_lang", "en")
    english = html.unescape(client.get(f"/dashboard/cases/{case_id}").text)
    assert item9.text.get("en")[:40] in english and answer.label.get("en") in english
    assert 'title="Rule: phq9.' in english


def test_a_message_and_a_request_are_quoted_and_named(client: TestClient, desk: Desk) -> None:
    desk.to_menu()
    desk.say(PERSON, "5")  # menu 5: talk to a psychologist
    desk.tick()
    page = client.get(f"/dashboard/cases/{_case_id(desk)}").text
    assert "Pidió hablar con un psicólogo(a)" in page
    assert "request.talk_to_psychologist" in page  # on hover only
    desk.say(PERSON, "hoy me quiero matar, no aguanto más")
    desk.tick()
    page = html.unescape(client.get(f"/dashboard/cases/{_case_id(desk)}").text)
    assert "Escribió: «hoy me quiero matar, no aguanto más»" in page


def test_failed_alerts_are_a_banner_on_the_case_and_a_mark_in_the_queue(
    client: TestClient, desk: Desk
) -> None:
    sms_only = [dict(p, contacts={"sms": "+15555550101"}) for p in ROSTER["psychologists"]]
    roster = desk.runtime.settings.oncall_file
    write_roster(roster, dict(ROSTER, psychologists=sms_only))
    later = time.time() + 5
    os.utime(roster, (later, later))
    desk.to_menu()
    desk.say(PERSON, "5")  # menu 5: talk to a psychologist
    desk.tick()
    case_id = _case_id(desk)
    page = client.get(f"/dashboard/cases/{case_id}").text
    assert 'id="case-alerts"' in page and "Ningún aviso de este caso llegó" in page
    assert 'data-alerts="failed"' in client.get("/dashboard/queue/rows").text


def test_earlier_cases_and_scores_over_time(client: TestClient, desk: Desk) -> None:
    desk.to_menu()
    _phq9(desk, [2, 2, 2, 2, 2, 2, 2, 2, 1])
    desk.tick()
    first = _case_id(desk)
    esc = desk.runtime.escalation
    assert service.acknowledge(esc, first, "ana").value == "acknowledged"
    assert service.resolve(esc, first, "ana", "contacted").value == "resolved"
    desk.clock.advance(days=14)
    desk.say(PERSON, "menu")
    _phq9(desk, [3, 3, 3, 3, 3, 3, 3, 3, 2])
    desk.tick()
    second = _case_id(desk)
    assert second != first
    page = client.get(f"/dashboard/cases/{second}").text
    assert f'href="/dashboard/cases/{first}"' in page
    assert 'class="chart scores"' in page
    assert page.count('class="score-dot"') == 2
    assert ">17<" in page and ">26<" in page  # both totals, oldest first


def test_internal_notes_are_kept_and_never_sent(client: TestClient, desk: Desk) -> None:
    desk.to_menu()
    desk.say(PERSON, "5")  # menu 5: talk to a psychologist
    desk.tick()
    case_id = _case_id(desk)
    page = client.get(f"/dashboard/cases/{case_id}").text
    before = len(desk.outbox())
    response = client.post(
        f"/dashboard/cases/{case_id}/notes",
        data={"text": "Su madre es el contacto de apoyo.", "csrf_token": csrf_of(page)},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Nota interna guardada." in response.text
    assert "Su madre es el contacto de apoyo." in response.text
    assert len(desk.outbox()) == before
    with Session(desk.db) as session:
        [note] = session.exec(select(CaseNote)).all()
    assert note.author == "ana" and note.case_id == case_id
    assert "note_added" in desk.events(case_id)
    empty = client.post(
        f"/dashboard/cases/{case_id}/notes",
        data={"text": "   ", "csrf_token": csrf_of(page)},
        follow_redirects=True,
    )
    assert "Escribe la nota." in empty.text


def test_handing_a_case_to_a_colleague_tells_them(client: TestClient, desk: Desk) -> None:
    desk.to_menu()
    desk.say(PERSON, "5")  # menu 5: talk to a psychologist
    desk.tick()
    case_id = _case_id(desk)
    page = client.get(f"/dashboard/cases/{case_id}").text
    token = csrf_of(page)
    refused = client.post(
        f"/dashboard/cases/{case_id}/transfer",
        data={"colleague": "luis", "csrf_token": token},
        follow_redirects=True,
    )
    assert "Solo se puede transferir un caso que alguien ya asumió." in refused.text
    client.post(f"/dashboard/cases/{case_id}/acknowledge", data={"csrf_token": token})
    page = client.get(f"/dashboard/cases/{case_id}").text
    assert 'id="transfer"' in page and "Luis Test" in page
    before = {row.id for row in desk.outbox(chat=LUIS)}
    done = client.post(
        f"/dashboard/cases/{case_id}/transfer",
        data={"colleague": "luis", "note": "Prefiere que la llamen de noche.", "csrf_token": token},
        follow_redirects=True,
    )
    assert "Caso transferido" in done.text
    assert '<span id="case-holder">Luis Test</span>' in done.text
    [told] = [row for row in desk.outbox(chat=LUIS) if row.id not in before]
    assert f"Caso #{case_id}" in told.text and "te lo transfirió" in told.text
    assert "Prefiere que la llamen de noche." in told.text
    assert desk.case().acknowledged_by == "luis"
    assert "transferred" in desk.events(case_id)
    unknown = client.post(
        f"/dashboard/cases/{case_id}/transfer",
        data={"colleague": "nobody", "csrf_token": token},
        follow_redirects=True,
    )
    assert "Elige a un colega de la lista de turnos." in unknown.text


def test_prepared_replies_come_in_the_person_s_language_and_are_not_sent_by_choosing(
    client: TestClient, desk: Desk
) -> None:
    desk.to_menu()
    desk.say(PERSON, "5")  # menu 5: talk to a psychologist
    desk.tick()
    page = html.unescape(client.get(f"/dashboard/cases/{_case_id(desk)}").text)
    es = load_replies(ROOT / "config")["es"]
    assert 'id="prepared"' in page and 'data-fills="reply"' in page
    for title, text in es.values():
        assert title in page and text in page


def test_prepared_replies_exist_in_both_languages_with_the_same_keys() -> None:
    replies = load_replies(ROOT / "config")
    assert replies["es"] and list(replies["es"]) == list(replies["en"])


def test_viewed_is_audited_once_per_user_and_case_per_ten_minutes(
    client: TestClient, desk: Desk
) -> None:
    desk.to_menu()
    desk.say(PERSON, "5")  # menu 5: talk to a psychologist
    desk.tick()
    case_id = _case_id(desk)
    for _ in range(3):
        assert client.get(f"/dashboard/cases/{case_id}").status_code == 200
    assert desk.events(case_id).count("viewed") == 1
    desk.clock.advance(minutes=11)
    client.get(f"/dashboard/cases/{case_id}")
    assert desk.events(case_id).count("viewed") == 2


def test_the_quote_goes_with_the_message_not_with_the_danger_answer_after_it(
    client: TestClient, desk: Desk
) -> None:
    desk.to_menu()
    desk.say(PERSON, "1", "1", "2", "me quiero matar", "1")  # mid PHQ-9, then "yes, now"
    desk.tick()
    page = html.unescape(client.get(f"/dashboard/cases/{_case_id(desk)}").text)
    assert "Dijo que corre peligro ahora mismo" in page
    assert "Escribió: «me quiero matar»" in page


def test_a_broken_replies_file_is_refused_naming_the_file_and_key(tmp_path: Path) -> None:
    messages = tmp_path / "messages"
    messages.mkdir()
    (messages / "replies.es.yaml").write_text(
        "hola:\n  title: Hola\n  text: Hola.\nextra:\n  title: X\n  text: Y\n", encoding="utf-8"
    )
    (messages / "replies.en.yaml").write_text(
        "hola:\n  title: Hello\n  text: Hello.\n", encoding="utf-8"
    )
    with pytest.raises(CatalogError, match=r"replies.en.yaml: keys differ from es: \['extra'\]"):
        load_replies(tmp_path)
    (messages / "replies.en.yaml").write_text(
        "hola:\n  title: Hello\nextra:\n  title: X\n  text: Y\n", encoding="utf-8"
    )
    with pytest.raises(CatalogError, match=r"replies.en.yaml: hola: needs exactly"):
        load_replies(tmp_path)
