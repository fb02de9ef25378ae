"""The review loop's page: messages the crisis detector was unsure about and free text the
bot did not understand, labelled risk / no risk with one click (each label audited)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlmodel import Session

from bot.dashboard.accounts import record_event
from bot.dashboard.auth import SessionDep, client_ip, page_for
from bot.dashboard.views.common import RowId, flash_text, see_other
from bot.dashboard.web import dashboard, render
from bot.db.models import utcnow
from bot.escalation.review import store

router = APIRouter()


@router.get("/review")
def review(request: Request, active: SessionDep, msg: str | None = None) -> Response:
    page = page_for(request, active, "review")
    db = dashboard(request).runtime.db
    return render(
        page,
        "review.html",
        pending=store.pending(db),
        labelled=store.recently_labelled(db),
        flash=flash_text(page, msg),
    )


@router.post("/review/{review_id}")
def label(
    request: Request,
    active: SessionDep,
    review_id: RowId,
    value: Annotated[int, Form(alias="label", ge=0, le=1)],
) -> Response:
    actor = active.user.username
    with Session(dashboard(request).runtime.db) as session:
        try:
            before = store.set_label(session, review_id, value, actor, utcnow())
        except store.NotFound:
            return render(page_for(request, active), "not_found.html", 404)
        record_event(
            session,
            "review_label",
            actor,
            ip=client_ip(request),
            review_id=review_id,
            label=value,
            before=before,
        )
        session.commit()
    return see_other(f"/dashboard/review?msg=labelled#review-{review_id}")
