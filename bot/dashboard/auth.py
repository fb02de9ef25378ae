"""Sign-in, sign-out, session cookies and CSRF for the dashboard.

* The session cookie holds a random token (the database keeps only its hash); it is
  HttpOnly, SameSite=Lax, ``Secure`` when ``PUBLIC_BASE_URL`` is https, scoped to
  ``/dashboard``. Sessions end after idle time and at an absolute limit.
* Every POST is checked by :func:`csrf_guard` (a dependency of the whole router): signed-in
  forms carry the session's token (kept server-side with the session); the login form's
  token is bound to a random pre-session cookie by an HMAC under a key derived from
  ``SECRET_KEY`` (:mod:`bot.dashboard.login_csrf`), so a pair made up by anyone else, or a
  token taken from another browser, is refused.
* Every page but the login page needs a session: browsers are redirected to the login page,
  scripts (polls) and form posts get 401.
"""

from __future__ import annotations

import math
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from bot.dashboard.accounts import ABSOLUTE_TIMEOUT, ActiveSession, LoginResult, csrf_matches
from bot.dashboard.web import (
    LANG_COOKIE,
    Page,
    dashboard,
    render,
    safe_next,
    strings,
)
from bot.http.client_address import client_address
from bot.http.security_headers import SECURITY_HEADERS

SESSION_COOKIE = "dash_session"
LOGIN_CSRF_COOKIE = "dash_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
POLL_HEADER = "x-dashboard-poll"
COOKIE_PATH = "/dashboard"
LOGIN_PATH = "/dashboard/login"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def client_ip(request: Request) -> str | None:
    """The client's address: ``X-Forwarded-For`` counts only from ``TRUSTED_PROXIES``."""
    return client_address(request, dashboard(request).trusted_proxies)


def _is_poll(request: Request) -> bool:
    return request.headers.get(POLL_HEADER) == "1"


def _load_session(request: Request) -> ActiveSession | None:
    if hasattr(request.state, "dashboard_session"):
        found: ActiveSession | None = request.state.dashboard_session
        return found
    token = request.cookies.get(SESSION_COOKIE, "")
    found = dashboard(request).accounts.session_for(token, touch=not _is_poll(request))
    request.state.dashboard_session = found
    return found


def _refuse(request: Request) -> HTTPException:
    if request.method == "GET" and not _is_poll(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        location = f"{LOGIN_PATH}?next={safe_next(target)}"
        return HTTPException(status_code=303, headers={"Location": location})
    return HTTPException(status_code=401, detail="sign in first")


def require_session(request: Request) -> ActiveSession:
    active = _load_session(request)
    if active is None:
        raise _refuse(request)
    return active


def require_admin(active: Annotated[ActiveSession, Depends(require_session)]) -> ActiveSession:
    if not active.user.is_admin:
        raise HTTPException(status_code=403, detail="admins only")
    return active


SessionDep = Annotated[ActiveSession, Depends(require_session)]
AdminDep = Annotated[ActiveSession, Depends(require_admin)]


def page_for(request: Request, active: ActiveSession, section: str = "") -> Page:
    return Page(request, strings(request), active.user, active.csrf_token, section)


async def _form(request: Request) -> FormData | None:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return await request.form()
    return None


async def csrf_guard(request: Request) -> None:
    """Refuses (403) any unsafe request without the right CSRF token."""
    if request.method not in UNSAFE_METHODS:
        return
    form = await _form(request)
    given = request.headers.get(CSRF_HEADER)
    if given is None and form is not None:
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if request.url.path == LOGIN_PATH:
        signer = dashboard(request).login_csrf
        if not signer.verify(request.cookies.get(LOGIN_CSRF_COOKIE, ""), given):
            raise HTTPException(status_code=403, detail="invalid or missing CSRF token")
        return
    active = await run_in_threadpool(_load_session, request)
    if active is None:
        raise HTTPException(status_code=401, detail="sign in first")
    if not csrf_matches(active.csrf_token, given):
        raise HTTPException(status_code=403, detail="invalid or missing CSRF token")


router = APIRouter()


def _login_page(request: Request, error: str | None, status_code: int, next_url: str) -> Response:
    nonce = secrets.token_urlsafe(32)
    token = dashboard(request).login_csrf.token(nonce)
    page = Page(request, strings(request), csrf=token, active="login")
    response = render(page, "login.html", status_code, error=error, next_url=next_url)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        nonce,
        max_age=3600,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=dashboard(request).secure_cookies,
    )
    return response


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    if _load_session(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, None, 200, safe_next(next))


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=512)] = "/dashboard",
) -> Response:
    result = dashboard(request).accounts.sign_in(username, password, client_ip(request))
    if result.result is not LoginResult.OK or result.token is None:
        status = 429 if result.result is LoginResult.THROTTLED else 401
        page = _login_page(request, f"login.error_{result.result.value}", status, safe_next(next))
        if result.retry_after is not None:
            page.headers["Retry-After"] = str(max(1, math.ceil(result.retry_after)))
        return page
    response = RedirectResponse(safe_next(next), status_code=303, headers=SECURITY_HEADERS)
    response.set_cookie(
        SESSION_COOKIE,
        result.token,
        max_age=int(ABSOLUTE_TIMEOUT.total_seconds()),
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=dashboard(request).secure_cookies,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=COOKIE_PATH)
    return response


@router.post("/logout")
def logout(request: Request, active: SessionDep) -> Response:
    dashboard(request).accounts.end_session(
        active.session_id, active.user.username, client_ip(request)
    )
    response = RedirectResponse(LOGIN_PATH, status_code=303, headers=SECURITY_HEADERS)
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    return response


@router.get("/lang/{code}")
def choose_language(code: str, next: str | None = None) -> Response:
    """Switch the UI language (a preference cookie; nothing else changes)."""
    response = RedirectResponse(safe_next(next), status_code=303)
    if code in ("es", "en"):
        response.set_cookie(
            LANG_COOKIE, code, max_age=365 * 86400, path=COOKIE_PATH, samesite="lax"
        )
    return response
