"""The queue of open cases (live), and acknowledging a case from it."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from bot.dashboard import casework
from bot.dashboard.auth import SessionDep, page_for
from bot.dashboard.rows import render_each
from bot.dashboard.views.common import RowId, flash_text, see_other
from bot.dashboard.web import Page, dashboard, render
from bot.db.models import utcnow
from bot.escalation.models import OPEN_STATUSES, PRIORITIES

router = APIRouter()


def _filters(request: Request) -> casework.QueueFilters:
    return casework.QueueFilters.parse(request.query_params)


@router.get("/")
def queue(request: Request, active: SessionDep, msg: str | None = None) -> Response:
    page = page_for(request, active, "queue")
    filters = _filters(request)
    runtime = dashboard(request).runtime
    now = utcnow()
    return render(
        page,
        "queue.html",
        rows=_rows(page, casework.queue(runtime, filters, active.user, page), now),
        filters=filters,
        query=filters.query_string(),
        priorities=PRIORITIES,
        statuses=OPEN_STATUSES,
        channels=casework.CHANNELS,
        now=now,
        flash=flash_text(page, msg),
    )


def _rows(page: Page, rows: list[casework.CaseView], now: datetime) -> list[Markup]:
    names = casework.staff_names(dashboard(page.request).runtime)
    return render_each(page, "_queue_row.html", "_queue_row_error.html", rows, now=now, names=names)


@router.get("/queue/rows")
def queue_rows(request: Request, active: SessionDep) -> Response:
    """The rows only, for the page's live refresh."""
    page = page_for(request, active, "queue")
    runtime = dashboard(request).runtime
    rows = _rows(page, casework.queue(runtime, _filters(request), active.user, page), utcnow())
    return render(page, "_queue_rows.html", rows=rows)


@router.post("/cases/{case_id}/acknowledge")
def acknowledge(request: Request, active: SessionDep, case_id: RowId) -> Response:
    runtime = dashboard(request).runtime
    result = casework.acknowledge(runtime, case_id, active.user)
    if result == "not_found":
        return render(page_for(request, active), "not_found.html", 404)
    return see_other(f"/dashboard/cases/{case_id}?msg={result}")
