"""The dashboard's router, mounted by :mod:`bot.web.app`. Every route is under
``/dashboard``, and every POST passes the CSRF check first."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from bot.dashboard.auth import csrf_guard
from bot.dashboard.auth import router as auth_router
from bot.dashboard.views import cases, queue, reports, review, roster, static, users

PREFIX = "/dashboard"
PARTS: tuple[APIRouter, ...] = (
    auth_router,
    static.router,
    queue.router,
    cases.router,
    roster.router,
    reports.router,
    review.router,
    users.router,
)

router = APIRouter(prefix=PREFIX, dependencies=[Depends(csrf_guard)], include_in_schema=False)
for part in PARTS:
    router.include_router(part)
# ``/dashboard`` itself (a sub-router cannot declare an empty path).
router.add_api_route("", queue.queue, methods=["GET"])
