"""The review page: unlabelled messages newest first, pseudonymous, labelled with one click;
every label (and relabel) audited. Items are made the real way: a person writes to the bot
mid-PHQ-9 something the detector is unsure about."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.dashboard.models import DashboardEvent
from bot.db.models import DetectionReview
from bot.runtime import Runtime
from tests.dashboard.conftest import sign_in
from tests.dashboard.people import pseudonym_of, say, to_menu

CHAT = "5550007777"
UNSURE = "ya no aguanto más"
UNCLEAR = "no entiendo qué me preguntas"


@pytest.fixture
def items(runtime: Runtime, db: Engine) -> list[int]:
    """Two items: the check question (older) and a message not understood (newer)."""
    conversations = runtime.conversations
    to_menu(conversations, CHAT)
    say(conversations, CHAT, "1", "2", UNSURE, "no", UNCLEAR)
    with Session(db) as session:
        rows = session.exec(select(DetectionReview).order_by(DetectionReview.id)).all()  # type: ignore[arg-type]
        assert [(r.kind, r.text) for r in rows] == [("unsure", UNSURE), ("unrecognised", UNCLEAR)]
        return [r.id or 0 for r in rows]


def _events(db: Engine) -> list[DashboardEvent]:
    with Session(db) as session:
        query = select(DashboardEvent).where(DashboardEvent.kind == "review_label")
        return list(session.exec(query.order_by(DashboardEvent.id)))  # type: ignore[arg-type]


def _pending_part(html: str) -> str:
    return html.split('id="review-pending"')[1].split('id="review-labelled"')[0]


def test_the_page_lists_unlabelled_items_newest_first_without_identifiers(
    client: TestClient, psychologist: str, runtime: Runtime, items: list[int]
) -> None:
    sign_in(client, psychologist)
    page = client.get("/dashboard/review")
    assert page.status_code == 200
    pending = _pending_part(page.text)
    assert pending.index(f'id="review-{items[1]}"') < pending.index(f'id="review-{items[0]}"')
    assert "ya no aguanto más" in pending and "no entiendo qué me preguntas" in pending
    assert pseudonym_of(runtime, CHAT) in pending
    assert CHAT not in page.text
    assert 'href="/dashboard/review"' in page.text  # in the navigation
    assert "Riesgo" in pending and "Sin riesgo" in pending
    client.get("/dashboard/lang/en")
    english = _pending_part(client.get("/dashboard/review").text)
    assert ">No risk<" in english and ">unsure<" in english


def test_one_click_labels_the_item_and_audits_it(
    client: TestClient, psychologist: str, db: Engine, items: list[int]
) -> None:
    csrf = sign_in(client, psychologist)
    done = client.post(
        f"/dashboard/review/{items[0]}",
        data={"csrf_token": csrf, "label": "1"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = client.get(done.headers["location"])
    assert f'id="review-{items[0]}"' not in _pending_part(page.text)
    labelled = page.text.split('id="review-labelled"')[1]
    row = re.search(rf'<tr id="labelled-{items[0]}">.*?</tr>', labelled, re.S)
    assert row and "luis" in row.group(0) and "Riesgo" in row.group(0)
    with Session(db) as session:
        stored = session.get(DetectionReview, items[0])
        assert stored and (stored.label, stored.labelled_by) == (1, "luis")
        assert stored.labelled_at is not None
    (event,) = _events(db)
    assert event.actor == "luis"
    assert event.detail == {"review_id": items[0], "label": 1, "before": None}


def test_relabelling_is_audited_with_the_label_before(
    client: TestClient, admin: str, db: Engine, items: list[int]
) -> None:
    csrf = sign_in(client, admin)
    for label in ("0", "1"):
        client.post(f"/dashboard/review/{items[1]}", data={"csrf_token": csrf, "label": label})
    assert [(e.detail["label"], e.detail["before"]) for e in _events(db)] == [(0, None), (1, 0)]


def test_labels_need_the_csrf_token_a_session_and_a_real_item(
    client: TestClient, psychologist: str, db: Engine, items: list[int]
) -> None:
    url = f"/dashboard/review/{items[0]}"
    assert client.post(url, data={"label": "1"}).status_code == 401
    csrf = sign_in(client, psychologist)
    assert client.post(url, data={"label": "1", "csrf_token": "forged"}).status_code == 403
    assert client.post(url, data={"label": "2", "csrf_token": csrf}).status_code == 422
    missing = client.post("/dashboard/review/999999", data={"label": "1", "csrf_token": csrf})
    assert missing.status_code == 404
    assert _events(db) == []
