"""Reports for a period, with charts, and the CSV / FHIR downloads (admins)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from markupsafe import Markup

from bot.dashboard import export
from bot.dashboard.auth import AdminDep, SessionDep, client_ip, page_for
from bot.dashboard.charts import Bar, bar_chart, column_chart
from bot.dashboard.i18n import Strings
from bot.dashboard.reports import Period, PeriodError, Report, build_report
from bot.dashboard.web import LIMA, dashboard, render
from bot.db.models import utcnow
from bot.http.security_headers import SECURITY_HEADERS

router = APIRouter()


def _today() -> datetime:
    return utcnow().astimezone(LIMA)


def _charts(report: Report, t: Strings, names: dict[str, str]) -> dict[str, Markup]:
    return {
        "daily": column_chart(
            [Bar(day.isoformat(), n) for day, n in report.screenings_by_day.items()],
            t("reports.chart_daily"),
        ),
        "instruments": bar_chart(
            [Bar(names.get(i, i), n) for i, n in report.screenings_by_instrument.items()],
            t("reports.chart_instruments"),
        ),
        "priority": bar_chart(
            [Bar(t(f"priority.{p}"), n, p) for p, n in report.cases_by_priority.items()],
            t("reports.chart_priority"),
        ),
        "outcome": bar_chart(
            [Bar(t(f"outcome.{o}"), n) for o, n in report.cases_by_outcome.items()],
            t("reports.chart_outcome"),
        ),
    }


@router.get("/reports")
def reports(
    request: Request, active: SessionDep, since: str | None = None, until: str | None = None
) -> Response:
    page = page_for(request, active, "reports")
    try:
        period = Period.parse(since, until, _today().date())
    except PeriodError as exc:
        return render(
            page,
            "reports.html",
            400,
            report=None,
            error=f"reports.error_{exc}",
            since=(since or "")[:10],
            until=(until or "")[:10],
        )
    runtime = dashboard(request).runtime
    report = build_report(runtime.db, runtime.content, period)
    names = {i: ins.short_name.get(page.lang) for i, ins in runtime.content.instruments.items()}
    return render(
        page,
        "reports.html",
        report=report,
        charts=_charts(report, page.t, names),
        error=None,
        since=period.since.isoformat(),
        until=period.until.isoformat(),
    )


def _download(
    request: Request, active: AdminDep, since: str | None, until: str | None, fmt: str
) -> Response:
    try:
        period = Period.parse(since, until, _today().date())
    except PeriodError:
        raise HTTPException(status_code=400, detail="invalid period") from None
    runtime = dashboard(request).runtime
    data = export.rows(runtime.db, period.start, period.end)
    if fmt == "csv":
        body = export.to_csv(runtime.content, data)
        media, ext = "text/csv; charset=utf-8", "csv"
    else:
        body = export.to_fhir_json(runtime.content, data, utcnow())
        media, ext = "application/fhir+json", "fhir.json"
    export.audit(
        runtime.db,
        active.user.username,
        fmt,
        period.since.isoformat(),
        period.until.isoformat(),
        ip=client_ip(request),
    )
    name = f"screenings-{period.since.isoformat()}-{period.until.isoformat()}.{ext}"
    headers = {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type=media, headers=headers)


@router.get("/reports/export.csv")
def export_csv(
    request: Request, active: AdminDep, since: str | None = None, until: str | None = None
) -> Response:
    return _download(request, active, since, until, "csv")


@router.get("/reports/export.fhir.json")
def export_fhir(
    request: Request, active: AdminDep, since: str | None = None, until: str | None = None
) -> Response:
    return _download(request, active, since, until, "fhir")
