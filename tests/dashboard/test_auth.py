"""Access control: sign-in, cookies, CSRF, lockout, throttling, expiry, roles."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from sqlmodel import Session, select

from bot.accounts.models import DashboardUser
from bot.dashboard.accounts import FREE_FAILURES, Accounts
from bot.dashboard.models import DashboardEvent, DashboardSession
from bot.dashboard.routes import PARTS, PREFIX
from bot.db.models import utcnow
from bot.runtime import build_runtime
from bot.settings import load_settings
from bot.web.app import create_app
from tests.dashboard.conftest import PASSWORD, csrf_of, sign_in

PUBLIC = {"/dashboard/login", "/dashboard/static/{name}", "/dashboard/lang/{code}"}


def _routes(method: str) -> list[str]:
    paths = []
    for part in PARTS:
        for route in part.routes:
            path = PREFIX + route.path if isinstance(route, APIRoute) else ""
            if isinstance(route, APIRoute) and method in route.methods and path not in PUBLIC:
                paths.append(re.sub(r"\{[a-z_]+\}", "1", path))
    assert paths
    return paths


def _login(client: TestClient, username: str, password: str) -> int:
    form = client.get("/dashboard/login")
    data = {"username": username, "password": password, "csrf_token": csrf_of(form.text)}
    return client.post("/dashboard/login", data=data, follow_redirects=False).status_code


def test_every_page_but_login_needs_a_session(client: TestClient) -> None:
    for path in _routes("GET"):
        page = client.get(path, follow_redirects=False)
        assert page.status_code == 303, path
        assert page.headers["location"].startswith("/dashboard/login?next=/dashboard"), path
        poll = client.get(path, headers={"X-Dashboard-Poll": "1"}, follow_redirects=False)
        assert poll.status_code == 401, path
    for path in _routes("POST"):
        assert client.post(path, data={"csrf_token": "x"}).status_code == 401, path
    assert client.get("/dashboard/login").status_code == 200


def test_sign_in_sets_a_safe_session_cookie(client: TestClient, admin: str, db: Engine) -> None:
    form = client.get("/dashboard/login")
    response = client.post(
        "/dashboard/login",
        data={"username": "ANA ", "password": PASSWORD, "csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/dashboard"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("dash_session=")
    )
    token = cookie.split(";")[0].split("=", 1)[1]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/dashboard" in cookie
    assert "Secure" not in cookie  # served over http here
    with Session(db) as session:
        stored = session.exec(select(DashboardSession)).one()
        user = session.exec(select(DashboardUser)).one()
    assert token not in stored.token_hash and len(stored.token_hash) == 64
    assert user.password_hash.startswith("$argon2id$")
    assert client.get("/dashboard").status_code == 200


def test_cookies_are_secure_when_served_over_https(db: Engine, database_url: str) -> None:
    settings = load_settings(
        database_url=database_url,
        run_workers_in_server=False,
        public_base_url="https://bot.example.org",
    )
    Accounts(db).create_user("ana", PASSWORD, "admin")
    with TestClient(
        create_app(settings, runtime=build_runtime(settings, db=db)),
        base_url="https://testserver",
    ) as client:
        form = client.get("/dashboard/login")
        assert "Secure" in form.headers["set-cookie"]
        response = client.post(
            "/dashboard/login",
            data={"username": "ana", "password": PASSWORD, "csrf_token": csrf_of(form.text)},
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert any(
            c.startswith("dash_session=") and "Secure" in c
            for c in response.headers.get_list("set-cookie")
        )


def test_login_form_needs_its_csrf_cookie(client: TestClient, admin: str) -> None:
    client.get("/dashboard/login")
    response = client.post(
        "/dashboard/login", data={"username": "ana", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert response.status_code == 403
    response = client.post("/dashboard/login", data={"username": "ana", "password": PASSWORD})
    assert response.status_code == 403


def test_every_form_post_without_the_csrf_token_is_refused(client: TestClient, admin: str) -> None:
    good = sign_in(client, admin)
    for path in _routes("POST"):
        assert client.post(path, data={}).status_code == 403, path
        assert client.post(path, data={"csrf_token": "not-it"}).status_code == 403, path
        assert client.post(path, json={"csrf_token": good}).status_code == 403, path
    # the same session's token works (logout is a POST too)
    assert client.post("/dashboard/logout", data={"csrf_token": good}).status_code == 200


def test_a_token_from_another_session_is_refused(
    client: TestClient, other_client, admin: str, psychologist: str
) -> None:
    mine = sign_in(client, admin)
    with other_client() as other:
        theirs = sign_in(other, psychologist)
        assert theirs != mine
        response = other.post("/dashboard/logout", data={"csrf_token": mine})
        assert response.status_code == 403


def test_wrong_password_and_unknown_user_look_the_same(client: TestClient, admin: str) -> None:
    form = client.get("/dashboard/login")
    wrong = client.post(
        "/dashboard/login",
        data={"username": "ana", "password": "nope-nope-nope", "csrf_token": csrf_of(form.text)},
    )
    form = client.get("/dashboard/login")
    unknown = client.post(
        "/dashboard/login",
        data={"username": "zoe", "password": "nope-nope-nope", "csrf_token": csrf_of(form.text)},
    )
    assert wrong.status_code == unknown.status_code == 401
    assert "incorrectos" in wrong.text and "incorrectos" in unknown.text


def test_an_admin_can_unlock_an_account(
    client: TestClient, other_client, admin: str, psychologist: str, db: Engine
) -> None:
    with other_client() as other:
        for _ in range(FREE_FAILURES):
            _login(other, "luis", "wrong password!")
        assert _login(other, "luis", PASSWORD) == 429
        csrf = sign_in(client, admin)
        with Session(db) as session:
            luis = session.exec(select(DashboardUser).where(DashboardUser.username == "luis")).one()
        response = client.post(
            f"/dashboard/users/{luis.id}",
            data={"csrf_token": csrf, "role": "psychologist", "active": "1", "unlock": "1"},
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert _login(other, "luis", PASSWORD) == 303


def test_logout_ends_the_session(client: TestClient, admin: str, db: Engine) -> None:
    csrf = sign_in(client, admin)
    cookie = client.cookies.get("dash_session")
    response = client.post("/dashboard/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303
    client.cookies.set("dash_session", cookie or "", path="/dashboard")
    assert client.get("/dashboard", follow_redirects=False).status_code == 303
    with Session(db) as session:
        assert session.exec(select(DashboardSession)).all() == []
        kinds = [e.kind for e in session.exec(select(DashboardEvent).order_by(DashboardEvent.id))]
    assert kinds[-2:] == ["login", "logout"]


@pytest.mark.parametrize("column", ["last_seen_at", "expires_at"])
def test_idle_and_absolute_expiry(client: TestClient, admin: str, db: Engine, column: str) -> None:
    sign_in(client, admin)
    past = utcnow() - timedelta(hours=13)
    with Session(db) as session:
        session.execute(update(DashboardSession).values({column: past}))
        session.commit()
    assert client.get("/dashboard", follow_redirects=False).status_code == 303
    with Session(db) as session:
        assert session.exec(select(DashboardSession)).all() == []


def test_polls_do_not_keep_a_session_alive(client: TestClient, admin: str, db: Engine) -> None:
    sign_in(client, admin)
    earlier = utcnow() - timedelta(minutes=20)
    with Session(db) as session:
        session.execute(update(DashboardSession).values(last_seen_at=earlier))
        session.commit()
    poll = client.get("/dashboard/queue/rows", headers={"X-Dashboard-Poll": "1"})
    assert poll.status_code == 200
    with Session(db) as session:
        assert session.exec(select(DashboardSession)).one().last_seen_at == earlier
    client.get("/dashboard")
    with Session(db) as session:
        assert session.exec(select(DashboardSession)).one().last_seen_at > earlier


def test_only_admins_manage_users(client: TestClient, psychologist: str) -> None:
    csrf = sign_in(client, psychologist)
    assert client.get("/dashboard/users").status_code == 403
    response = client.post(
        "/dashboard/users",
        data={"csrf_token": csrf, "username": "eve", "password": PASSWORD, "role": "admin"},
    )
    assert response.status_code == 403
    assert client.get("/dashboard/reports/export.csv").status_code == 403


def test_admin_creates_and_deactivates_a_user(
    client: TestClient, other_client, admin: str, db: Engine
) -> None:
    csrf = sign_in(client, admin)
    short = client.post(
        "/dashboard/users",
        data={"csrf_token": csrf, "username": "rosa", "password": "short", "role": "psychologist"},
    )
    assert short.status_code == 400 and "demasiado corta" in short.text
    created = client.post(
        "/dashboard/users",
        data={"csrf_token": csrf, "username": "rosa", "password": PASSWORD, "role": "psychologist"},
        follow_redirects=False,
    )
    assert created.status_code == 303
    with other_client() as other:
        sign_in(other, "rosa")
        with Session(db) as session:
            rosa = session.exec(select(DashboardUser).where(DashboardUser.username == "rosa")).one()
        client.post(
            f"/dashboard/users/{rosa.id}",
            data={"csrf_token": csrf, "role": "psychologist"},  # "active" unticked
        )
        assert other.get("/dashboard", follow_redirects=False).status_code == 303
        assert _login(other, "rosa", PASSWORD) == 401
    assert client.post("/dashboard/users/999", data={"csrf_token": csrf}).status_code == 404


def test_pages_carry_security_headers_and_redirects_stay_inside(
    client: TestClient, admin: str
) -> None:
    form = client.get("/dashboard/login?next=https://evil.example/x")
    assert "default-src 'self'" in form.headers["content-security-policy"]
    assert form.headers["cache-control"] == "no-store"
    response = client.post(
        "/dashboard/login",
        data={
            "username": "ana",
            "password": PASSWORD,
            "csrf_token": csrf_of(form.text),
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/dashboard"


def test_language_switch(client: TestClient, admin: str) -> None:
    assert "Ingresar" in client.get("/dashboard/login").text
    client.get("/dashboard/lang/en?next=/dashboard/login")
    assert "Sign in" in client.get("/dashboard/login").text
    english = client.get("/dashboard/login", headers={"accept-language": "en-GB,en;q=0.8"})
    assert "Sign in" in english.text


def test_bad_form_input_is_never_a_server_error(client: TestClient, admin: str) -> None:
    form = client.get("/dashboard/login")
    huge = client.post(
        "/dashboard/login",
        data={"username": "a" * 5000, "password": "x", "csrf_token": csrf_of(form.text)},
    )
    assert huge.status_code == 422
    csrf = sign_in(client, admin)
    for path in ("/dashboard/users/abc", "/dashboard/cases/abc/resolve"):
        assert client.post(path, data={"csrf_token": csrf}).status_code in (404, 422)
    assert client.get("/dashboard/cases/999999").status_code == 404
    assert client.get("/dashboard/static/../../settings.py").status_code == 404
