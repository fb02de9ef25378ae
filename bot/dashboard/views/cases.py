"""A case: the person, screenings, conversation and history; reveal, write, resolve.

Opening the page and revealing the contact are written to the case's audit log; the
live parts (messages, history) are polled and are not counted as views.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from bot.dashboard import casework, people
from bot.dashboard.accounts import ActiveSession
from bot.dashboard.auth import SessionDep, page_for
from bot.dashboard.views.common import RowId, flash_text, see_other
from bot.dashboard.web import dashboard, render
from bot.db.models import utcnow
from bot.escalation.models import OUTCOMES
from bot.waiting.plans import latest_plan

router = APIRouter()
MAX_TEXT = 4000


def _not_found(request: Request, active: ActiveSession) -> Response:
    return render(page_for(request, active), "not_found.html", 404)


def _case_page(
    request: Request,
    active: ActiveSession,
    case_id: RowId,
    *,
    revealed: str | None = None,
    flash: str | None = None,
) -> Response:
    runtime = dashboard(request).runtime
    case = casework.get_case(runtime, case_id)
    if case is None:
        return _not_found(request, active)
    page = page_for(request, active, "queue")
    person = people.person(runtime.db, case.participant_id) if case.participant_id else None
    lines = (
        people.transcript(runtime.db, case.participant_id, casework.STAFF_PURPOSES)
        if case.participant_id
        else []
    )
    return render(
        page,
        "case.html",
        case=case,
        person=person,
        revealed=revealed,
        screenings=(
            people.screenings(runtime.db, runtime.content, case.participant_id, page.lang)
            if case.participant_id
            else []
        ),
        lines=lines,
        events=casework.timeline(runtime, case_id),
        safety_plan=(latest_plan(runtime.db, case.participant_id) if case.participant_id else None),
        outcomes=OUTCOMES,
        max_text=MAX_TEXT,
        now=utcnow(),
        flash=flash,
    )


@router.get("/cases/{case_id}")
def case_page(
    request: Request, active: SessionDep, case_id: RowId, msg: str | None = None
) -> Response:
    runtime = dashboard(request).runtime
    if not casework.record_view(runtime, case_id, active.user):
        return _not_found(request, active)
    return _case_page(request, active, case_id, flash=flash_text(page_for(request, active), msg))


@router.post("/cases/{case_id}/reveal")
def reveal(request: Request, active: SessionDep, case_id: RowId) -> Response:
    runtime = dashboard(request).runtime
    case = casework.get_case(runtime, case_id)
    if case is None or case.participant_id is None:
        return _not_found(request, active)
    casework.record_reveal(runtime, case_id, active.user)
    identifier = people.reveal_identifier(runtime.db, runtime.cipher, case.participant_id)
    return _case_page(request, active, case_id, revealed=identifier or "—")


@router.get("/cases/{case_id}/messages")
def messages(request: Request, active: SessionDep, case_id: RowId) -> Response:
    runtime = dashboard(request).runtime
    case = casework.get_case(runtime, case_id)
    if case is None:
        return _not_found(request, active)
    lines = (
        people.transcript(runtime.db, case.participant_id, casework.STAFF_PURPOSES)
        if case.participant_id
        else []
    )
    return render(page_for(request, active), "_messages.html", lines=lines)


@router.get("/cases/{case_id}/timeline")
def timeline(request: Request, active: SessionDep, case_id: RowId) -> Response:
    runtime = dashboard(request).runtime
    if casework.get_case(runtime, case_id) is None:
        return _not_found(request, active)
    events = casework.timeline(runtime, case_id)
    return render(page_for(request, active), "_timeline.html", events=events)


@router.post("/cases/{case_id}/messages")
def write(
    request: Request,
    active: SessionDep,
    case_id: RowId,
    text: Annotated[str, Form(max_length=MAX_TEXT)] = "",
) -> Response:
    runtime = dashboard(request).runtime
    if not text.strip():
        return see_other(f"/dashboard/cases/{case_id}?msg=empty")
    result = casework.send_to_person(runtime, case_id, active.user, text.strip())
    if result == "not_found":
        return _not_found(request, active)
    return see_other(f"/dashboard/cases/{case_id}?msg={result}")


@router.post("/cases/{case_id}/resolve")
def resolve(
    request: Request,
    active: SessionDep,
    case_id: RowId,
    outcome: Annotated[str, Form(max_length=32)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    if outcome not in OUTCOMES:
        return see_other(f"/dashboard/cases/{case_id}?msg=invalid_outcome")
    runtime = dashboard(request).runtime
    result = casework.resolve(runtime, case_id, active.user, outcome, note.strip())
    if result == "not_found":
        return _not_found(request, active)
    return see_other(f"/dashboard/cases/{case_id}?msg={result}")
