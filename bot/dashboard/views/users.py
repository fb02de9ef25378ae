"""User management (admins only): list, create, change role, unlock, deactivate, reset."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from bot.accounts.models import ROLES
from bot.dashboard.accounts import MIN_PASSWORD_LENGTH, AccountError
from bot.dashboard.auth import AdminDep, page_for
from bot.dashboard.roster_info import psychologists
from bot.dashboard.views.common import RowId, flash_text, see_other
from bot.dashboard.web import dashboard, render
from bot.db.models import utcnow

router = APIRouter()


def _page(
    request: Request, active: AdminDep, flash: str | None, error: bool, status: int
) -> Response:
    page = page_for(request, active, "users")
    people = psychologists(dashboard(request).runtime)
    return render(
        page,
        "users.html",
        status,
        users=dashboard(request).accounts.users(),
        roles=ROLES,
        psychologists=people,
        roster_ids={p.id for p in people},
        min_password=MIN_PASSWORD_LENGTH,
        now=utcnow(),
        flash=flash,
        flash_error=error,
    )


@router.get("/users")
def users(request: Request, active: AdminDep, msg: str | None = None) -> Response:
    return _page(request, active, flash_text(page_for(request, active), msg), False, 200)


@router.post("/users")
def create_user(
    request: Request,
    active: AdminDep,
    username: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=32)] = "psychologist",
    psychologist_id: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    try:
        dashboard(request).accounts.create_user(
            username,
            password,
            role,
            psychologist_id=psychologist_id.strip() or None,
            actor=active.user.username,
        )
    except AccountError as exc:
        page = page_for(request, active)
        return _page(request, active, page.t(f"account_error.{exc.code}"), True, 400)
    return see_other("/dashboard/users?msg=user_created")


@router.post("/users/{user_id}")
def update_user(
    request: Request,
    active: AdminDep,
    user_id: RowId,
    role: Annotated[str, Form(max_length=32)] = "",
    psychologist_id: Annotated[str, Form(max_length=64)] = "",
    active_flag: Annotated[str, Form(alias="active", max_length=4)] = "",
    unlock: Annotated[str, Form(max_length=4)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    is_self = user_id == active.user.id
    try:
        if is_self and (not active_flag or (role and role != "admin")):
            raise AccountError("cannot_demote_self")
        dashboard(request).accounts.update_user(
            user_id,
            actor=active.user.username,
            role=role or None,
            psychologist_id=psychologist_id.strip(),
            active=bool(active_flag),
            unlock=bool(unlock),
            password=password or None,
        )
    except AccountError as exc:
        page = page_for(request, active)
        status = 404 if exc.code == "user_not_found" else 400
        return _page(request, active, page.t(f"account_error.{exc.code}"), True, status)
    return see_other("/dashboard/users?msg=user_updated")
