"""Report figures from real conversations and cases, the page with its charts, downloads."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.dashboard.models import DashboardEvent
from bot.dashboard.reports import Period, PeriodError, build_report, percentile
from bot.escalation import service
from bot.escalation.context import Escalation, build_escalation
from bot.escalation.models import Case
from bot.flows import ConversationService
from bot.runtime import Runtime
from tests.dashboard.conftest import sign_in
from tests.dashboard.people import gad7, phq9, say, to_menu

DAY = date(2026, 11, 10)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 10, 15, 0, tzinfo=UTC)  # 10:00 in Lima

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def esc(runtime: Runtime, db: Engine, clock: Clock) -> Escalation:
    return build_escalation(runtime.settings, db, runtime.cipher, clock=clock)


@pytest.fixture
def period_data(runtime: Runtime, db: Engine, clock: Clock, esc: Escalation) -> None:
    talk = ConversationService(db, runtime.conversations.flow, runtime.cipher, clock=clock)
    to_menu(talk, "a")
    phq9(talk, "a", [2, 2, 1, 3, 1, 2, 1, 0, 1])  # 13: positive, item 9 -> high
    to_menu(talk, "b")
    phq9(talk, "b", [0] * 9)  # minimal
    gad7(talk, "b", [3] * 7)  # 21: positive, severe -> routine
    to_menu(talk, "c")
    say(talk, "c", "me quiero matar", "1")  # crisis words (high), then "yes, now": imminent
    service.ingest_signals(esc)
    with Session(db) as session:
        cases = {c.priority: c.id or 0 for c in session.exec(select(Case))}
    clock.now += timedelta(minutes=4)
    assert service.acknowledge(esc, cases["imminent"], "ana") == "acknowledged"
    clock.now += timedelta(minutes=10)
    assert service.acknowledge(esc, cases["high"], "luis") == "acknowledged"
    service.resolve(esc, cases["imminent"], "ana", "referred_csmc", "CSMC")


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.9) == 7.0
    assert percentile([240.0, 840.0], 0.5) == 540.0
    assert percentile([240.0, 840.0], 0.9) == pytest.approx(780.0)
    assert percentile([float(n) for n in range(1, 11)], 0.9) == pytest.approx(9.1)


def test_periods_are_lima_days() -> None:
    period = Period.parse("2026-11-10", "2026-11-10", DAY)
    assert period.start == datetime(2026, 11, 10, 5, 0, tzinfo=UTC)
    assert period.end == datetime(2026, 11, 11, 5, 0, tzinfo=UTC)
    assert Period.parse(None, None, DAY) == Period(date(2026, 10, 12), DAY)
    for since, until in (("2026-13-01", None), ("2026-11-10", "2026-11-01"), ("2000-01-01", None)):
        with pytest.raises(PeriodError):
            Period.parse(since, until, DAY)


def test_report_figures(runtime: Runtime, db: Engine, period_data: None) -> None:
    report = build_report(db, runtime.content, Period(DAY, DAY))
    assert report.people_screened == 2
    assert report.screenings_by_instrument == {"gad7": 1, "phq9": 2}
    assert report.screenings_by_day == {DAY: 3}
    assert (report.positive_depression, report.positive_anxiety) == (1, 1)
    assert (report.si_signals, report.si_people) == (3, 2)
    assert report.referral_recommended == 2
    assert report.referred_csmc == 1
    assert report.cases_by_priority == {"imminent": 1, "high": 1, "moderate": 0, "routine": 1}
    assert report.cases_by_outcome["referred_csmc"] == 1 and report.cases_open == 2
    assert report.ack_count == 2
    assert report.ack_median == timedelta(minutes=9)
    assert report.ack_p90 == timedelta(minutes=13)
    empty = build_report(db, runtime.content, Period(DAY + timedelta(days=1), DAY + timedelta(1)))
    assert (empty.people_screened, empty.si_signals, empty.ack_median) == (0, 0, None)


def test_report_page_with_charts(client: TestClient, admin: str, period_data: None) -> None:
    sign_in(client, admin)
    page = client.get("/dashboard/reports?since=2026-11-10&until=2026-11-10")
    assert page.status_code == 200
    assert page.text.count("<svg") == 4
    assert '<div class="n" id="fig-people">2</div>' in page.text
    assert '<div class="n" id="fig-si">3</div>' in page.text
    assert '<div class="n" id="fig-ack-median">9 min</div>' in page.text
    assert '<div class="n" id="fig-ack-p90">13 min</div>' in page.text
    for bad in ("since=yesterday", "since=2026-11-10&until=2026-01-01", "since=1990-01-01"):
        refused = client.get(f"/dashboard/reports?{bad}")
        assert refused.status_code == 400 and "<svg" not in refused.text


def test_admin_downloads_are_audited(
    client: TestClient, admin: str, period_data: None, db: Engine
) -> None:
    sign_in(client, admin)
    csv_file = client.get("/dashboard/reports/export.csv?since=2026-11-10&until=2026-11-10")
    assert csv_file.status_code == 200 and csv_file.text.count("\r\n") == 4  # header + 3
    assert "attachment" in csv_file.headers["content-disposition"]
    fhir = client.get("/dashboard/reports/export.fhir.json?since=2026-11-10&until=2026-11-10")
    assert fhir.json()["resourceType"] == "Bundle"
    assert client.get("/dashboard/reports/export.csv?since=nope").status_code == 400
    with Session(db) as session:
        exports = session.exec(select(DashboardEvent).where(DashboardEvent.kind == "export"))
        assert [(e.actor, e.detail["format"]) for e in exports] == [("ana", "csv"), ("ana", "fhir")]
