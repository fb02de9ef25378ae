"""Who is on call now and next, coverage gaps, psychologists with no working contact."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bot.dashboard.auth import SessionDep, page_for
from bot.dashboard.roster_info import overview
from bot.dashboard.web import dashboard, render
from bot.db.models import utcnow

router = APIRouter()


@router.get("/roster")
def roster(request: Request, active: SessionDep) -> Response:
    page = page_for(request, active, "roster")
    return render(page, "roster.html", roster=overview(dashboard(request).runtime, utcnow()))
