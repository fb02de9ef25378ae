"""A case: the person, screenings, conversation and history; reveal, write, resolve.

Opening the page and revealing the contact are written to the case's audit log; the
live parts (messages, history) are polled and are not counted as views.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from bot.channels.media import MediaUnavailable, fetch_media
from bot.dashboard import casework, media, notes, people, person_history, replies
from bot.dashboard.accounts import ActiveSession
from bot.dashboard.auth import SessionDep, page_for
from bot.dashboard.charts import score_chart
from bot.dashboard.views.common import RowId, flash_text, see_other
from bot.dashboard.web import dashboard, render
from bot.db.models import utcnow
from bot.escalation import service
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
    page = page_for(request, active, "queue")
    case = casework.get_case(runtime, case_id, page)
    if case is None:
        return _not_found(request, active)
    pid = case.participant_id
    person = people.person(runtime.db, pid) if pid else None
    screenings = people.screenings(runtime.db, runtime.content, pid, page.lang) if pid else []
    return render(
        page,
        "case.html",
        case=case,
        person=person,
        revealed=revealed,
        reasons=casework.all_reasons(runtime, case_id, page),
        screenings=screenings,
        scores=score_chart(person_history.score_series(screenings), page.t("case.scores")),
        other_cases=person_history.other_cases(runtime.db, pid, case_id) if pid else [],
        lines=people.transcript(runtime.db, pid, casework.STAFF_PURPOSES) if pid else [],
        case_id=case_id,
        events=casework.timeline(runtime, case_id, page),
        safety_plan=(latest_plan(runtime.db, case.participant_id) if case.participant_id else None),
        notes=notes.of_case(runtime.db, case_id),
        colleagues=casework.colleagues(runtime, active.user),
        names=casework.staff_names(runtime),
        replies=(
            replies.prepared(runtime.settings.config_dir, page.lang, person.language)
            if person
            else []
        ),
        outcomes=OUTCOMES,
        max_text=MAX_TEXT,
        max_note=notes.MAX_NOTE,
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
    case = casework.get_case(runtime, case_id, page_for(request, active))
    if case is None or case.participant_id is None:
        return _not_found(request, active)
    casework.record_reveal(runtime, case_id, active.user)
    identifier = people.reveal_identifier(runtime.db, runtime.cipher, case.participant_id)
    return _case_page(request, active, case_id, revealed=identifier or "—")


@router.get("/cases/{case_id}/messages")
def messages(request: Request, active: SessionDep, case_id: RowId) -> Response:
    runtime = dashboard(request).runtime
    case = casework.get_case(runtime, case_id, page_for(request, active))
    if case is None:
        return _not_found(request, active)
    lines = (
        people.transcript(runtime.db, case.participant_id, casework.STAFF_PURPOSES)
        if case.participant_id
        else []
    )
    return render(page_for(request, active), "_messages.html", lines=lines, case_id=case_id)


@router.get("/cases/{case_id}/media/{message_id}")
async def open_media(
    request: Request, active: SessionDep, case_id: RowId, message_id: RowId
) -> Response:
    """A file the person sent, fetched from the platform now (never stored); each opening is
    written to the case's log."""
    runtime = dashboard(request).runtime
    page = page_for(request, active)
    case = await run_in_threadpool(casework.get_case, runtime, case_id, page)
    found = (
        await run_in_threadpool(media.stored_media, runtime, case.participant_id, message_id)
        if case is not None and case.participant_id is not None
        else None
    )
    if found is None:
        return _not_found(request, active)
    await run_in_threadpool(casework.record_media_view, runtime, case_id, active.user)
    try:
        fetched = await fetch_media(runtime.settings, found.channel, found.ref)
    except MediaUnavailable as exc:
        status = 404 if exc.reason == "gone" else 502
        return render(page, "media_unavailable.html", status, reason=exc.reason, case_id=case_id)
    media_type = media.served_type(found.content_type, fetched.content_type)
    return Response(
        fetched.body,
        media_type=media_type,
        headers=media.headers_for(media_type, found.kind, message_id),
    )


@router.get("/cases/{case_id}/timeline")
def timeline(request: Request, active: SessionDep, case_id: RowId) -> Response:
    runtime = dashboard(request).runtime
    if service.get_case(runtime.db, case_id) is None:
        return _not_found(request, active)
    page = page_for(request, active)
    return render(page, "_timeline.html", events=casework.timeline(runtime, case_id, page))


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


@router.post("/cases/{case_id}/notes")
def add_note(
    request: Request,
    active: SessionDep,
    case_id: RowId,
    text: Annotated[str, Form(max_length=notes.MAX_NOTE)] = "",
) -> Response:
    """An internal note: for the team, never sent to the person."""
    runtime = dashboard(request).runtime
    if service.get_case(runtime.db, case_id) is None:
        return _not_found(request, active)
    if not text.strip():
        return see_other(f"/dashboard/cases/{case_id}?msg=empty_note")
    notes.add(runtime.db, runtime.escalation, case_id, casework.actor(active.user), text)
    return see_other(f"/dashboard/cases/{case_id}?msg=note_added#notes")


@router.post("/cases/{case_id}/transfer")
def transfer(
    request: Request,
    active: SessionDep,
    case_id: RowId,
    colleague: Annotated[str, Form(max_length=64)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    runtime = dashboard(request).runtime
    result = casework.transfer(runtime, case_id, active.user, colleague, note)
    if result == "not_found":
        return _not_found(request, active)
    return see_other(f"/dashboard/cases/{case_id}?msg={result}")
