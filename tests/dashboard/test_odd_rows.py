"""The queue, its live refresh, the case pages and the reports answer whatever the data.

The database is filled through the real conversation and escalation code (including the
"talk to a psychologist, then BORRAR" race) and then with every odd row we could think of:
no person, an empty or unknown channel, an unknown priority, status, outcome or event kind,
reasons and quotes that are huge or full of markup and control characters, snapshots and
details of the wrong shape, screenings of an unknown instrument.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from starlette.requests import Request

from bot.accounts.models import DashboardUser
from bot.dashboard import casework
from bot.dashboard.accounts import Accounts
from bot.dashboard.i18n import strings_for
from bot.dashboard.rows import render_each
from bot.dashboard.web import Page
from bot.db.models import InboundMessage, OutboundMessage, Participant, Screening
from bot.escalation.models import Case, CaseEvent
from bot.web.app import create_app
from tests.dashboard.conftest import PASSWORD, sign_in
from tests.escalation.support import T0, Clock, Desk, make_settings, write_roster

ODD_TEXT = (
    "<script>alert(1)</script> {{ 7*7 }} {% raw %} \u202etxet desrever\u202c "
    "😀\x07\x1b ñ\n\n" + "palabra " * 3000
)
FIRST, SECOND, THIRD = 555101, 555102, 555103


@pytest.fixture
def desk(db: Engine, database_url: str, tmp_path: Path) -> Iterator[Desk]:
    roster = write_roster(tmp_path / "oncall.yaml")
    desk = Desk.build(make_settings(database_url, roster), db, Clock(T0))
    yield desk


@pytest.fixture
def client(desk: Desk) -> Iterator[TestClient]:
    Accounts(desk.db).create_user("ana", PASSWORD, "admin", psychologist_id="ana")
    with TestClient(create_app(desk.runtime.settings, runtime=desk.runtime)) as test_client:
        sign_in(test_client, "ana")
        yield test_client


def _borrar_race(desk: Desk) -> None:
    """ "Hablar con un psicólogo", then BORRAR and its confirmation before escalation runs."""
    desk.to_menu(FIRST)
    desk.say(FIRST, "5")  # menu 5: talk to a psychologist
    desk.say(FIRST, "borrar", "1")
    desk.tick()


def _deleted_after_alert(desk: Desk) -> None:
    desk.to_menu(SECOND)
    desk.say(SECOND, "hoy me quiero matar, no aguanto")
    desk.tick()
    desk.say(SECOND, "2", "borrar", "1")


def _odd_rows(db: Engine) -> None:
    now = T0
    with Session(db) as session:
        person = session.exec(select(Participant)).first()
        assert person is not None and person.id is not None
        session.add(
            Screening(
                participant_id=person.id,
                instrument_id="no_such_instrument",
                instrument_version="?",
                language="xx",
                answers={"q1": "zz", "": ""},
                total=999,
                max_total=None,
                band="weird_band",
                result="weird_result",
                flags=[{"flag": "weird_flag"}, {"rule": 7}, {}],
                started_at=now,
                completed_at=now,
            )
        )
        session.add(
            Screening(
                participant_id=person.id,
                instrument_id="phq9",
                instrument_version="1",
                language="es",
                answers={"phq9_1": "not_a_code", "phq9_9": "3", "ghost_item": "1"},
                total=None,
                max_total=27,
                flags=[],
                started_at=now,
                completed_at=now - timedelta(days=400),
            )
        )
        session.add(
            InboundMessage(
                channel="",
                provider_message_id="odd-1",
                sender_hash="x",
                participant_id=person.id,
                kind="mystery",
                text=None,
                received_at=now,
            )
        )
        session.add(
            OutboundMessage(
                participant_id=person.id,
                channel="fax",
                recipient_hash="x",
                purpose="mystery",
                text=ODD_TEXT,
                status="exploded",
                next_attempt_at=now,
                created_at=now,
            )
        )
        cases = [
            Case(channel="", priority="", status="open", reason=""),
            Case(
                channel="fax",
                priority="urgentísimo",
                status="in_conversation",
                reason=ODD_TEXT,
                snapshot={"quote": 12345, "signals": "not a list", "screenings": [None]},
                chain={"steps": "bad"},
                acknowledged_by="ghost",
                acknowledged_at=now,
            ),
            Case(
                channel="whatsapp",
                priority="high",
                status="acknowledged",
                reason="x",
                snapshot={"quote": ODD_TEXT, "signals": [{"rule": None}, "str", 3]},
                opened_at=datetime(2000, 1, 1, tzinfo=UTC),
                next_step_at=datetime(2000, 1, 1, 0, 5, tzinfo=UTC),
                acknowledged_by="dashboard:",
            ),
            Case(
                channel="telegram",
                priority="routine",
                status="open",
                reason="r",
                snapshot=["a", "list"],  # type: ignore[arg-type]
                next_step_at=now + timedelta(days=4000),
            ),
            Case(
                channel="sim",
                priority="moderate",
                status="resolved",
                reason="r",
                outcome="weird_outcome",
                note=ODD_TEXT,
                resolved_at=now,
                resolved_by="nobody",
            ),
        ]
        session.add_all(cases)
        session.flush()
        for case in cases:
            assert case.id is not None
            for kind, detail in (
                ("mystery", {"nested": {"a": [1, 2]}, "text": "secreto", "n": None}),
                ("notify_failed", {}),
                ("created", ["not", "a", "mapping"]),
                ("resolved", {"outcome": "weird", "note": ODD_TEXT}),
            ):
                session.add(
                    CaseEvent(case_id=case.id, kind=kind, at=now, actor="ghost", detail=detail)  # type: ignore[arg-type]
                )
        session.commit()


@pytest.fixture
def odd(desk: Desk) -> list[int]:
    _borrar_race(desk)
    _deleted_after_alert(desk)
    desk.to_menu(THIRD)
    desk.say(THIRD, "1", *["3"] * 9)  # a PHQ-9 with item 9 answered: a real case with a person
    desk.tick()
    _odd_rows(desk.db)
    with Session(desk.db) as session:
        return [c.id or 0 for c in session.exec(select(Case).order_by(col(Case.id)))]


def test_the_borrar_race_leaves_a_case_that_says_the_person_deleted_their_data(
    desk: Desk,
) -> None:
    _borrar_race(desk)
    case = desk.case()
    assert case.participant_id is None and case.channel == ""
    assert case.person_deleted_at is not None and case.status == "open"
    assert "person_deleted_data" in desk.events(case.id or 0)


def test_every_page_answers_whatever_the_data(client: TestClient, odd: list[int]) -> None:
    assert len(odd) >= 8
    queue = client.get("/dashboard")
    assert queue.status_code == 200
    rows = client.get("/dashboard/queue/rows")
    assert rows.status_code == 200
    for html in (queue.text, rows.text):
        assert "<script>alert(1)" not in html
        assert html.count('data-case="') >= 7  # every open case has its row
        assert "row-error" not in html
        assert "Datos borrados" in html  # the race and the erased person are marked
    for query in ("?channel=telegram", "?priority=high&status=open&mine=1", "?channel=x"):
        assert client.get(f"/dashboard/queue/rows{query}").status_code == 200
    for case_id in odd:
        for suffix in ("", "/messages", "/timeline"):
            page = client.get(f"/dashboard/cases/{case_id}{suffix}")
            assert page.status_code == 200, (case_id, suffix, page.text[-2000:])
            assert "<script>alert(1)" not in page.text
    for since, until in (("", ""), ("2000-01-01", "2002-12-31"), ("2026-01-01", "2026-12-31")):
        report = client.get(f"/dashboard/reports?since={since}&until={until}")
        assert report.status_code == 200


def test_an_erased_person_s_case_says_so_and_keeps_its_history(
    client: TestClient, desk: Desk
) -> None:
    _deleted_after_alert(desk)
    case = desk.case()
    page = client.get(f"/dashboard/cases/{case.id}")
    assert page.status_code == 200
    assert 'id="person-deleted"' in page.text and "no se le puede contactar" in page.text
    assert "no aguanto" not in page.text
    assert 'id="reply"' not in page.text  # nobody to write to
    timeline = client.get(f"/dashboard/cases/{case.id}/timeline").text
    assert "Caso abierto" in timeline and "La persona borró sus datos" in timeline


def test_a_row_that_cannot_be_shown_is_that_row_s_error_not_the_page_s(
    client: TestClient, desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    desk.to_menu(THIRD)
    desk.say(THIRD, "hoy me quiero matar")
    desk.tick()
    page = _page(client)
    [good] = casework.queue(desk.runtime, casework.QueueFilters(), _user(desk), page)
    # a timestamp without a time zone cannot be compared with now: the template raises
    bad = replace(good, id=good.id + 1000, next_step_at=datetime(2026, 1, 1))
    html = "".join(
        render_each(page, "_queue_row.html", "_queue_row_error.html", [bad, good], now=T0, names={})
    )
    assert html.count('class="row-error"') == 1
    assert f'data-case="{bad.id}"' in html and f'data-case="{good.id}"' in html
    assert any(r.getMessage() == "a row could not be shown" for r in caplog.records)


def _user(desk: Desk) -> DashboardUser:
    [user] = [u for u in Accounts(desk.db).users() if u.username == "ana"]
    return user


def _page(client: TestClient) -> Page:
    app = client.app
    scope = {"type": "http", "app": app, "headers": [], "path": "/dashboard", "method": "GET"}
    runtime = app.state.runtime  # type: ignore[attr-defined]
    return Page(Request(scope), strings_for(runtime.settings.config_dir)["es"])
