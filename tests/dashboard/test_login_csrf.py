"""The login form's CSRF token is bound to its browser's cookie by an HMAC: a made-up
double-submit pair, or a token from another browser, is refused."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from bot.dashboard.login_csrf import LoginCsrf
from tests.dashboard.conftest import PASSWORD, csrf_of

COOKIE = "dash_login_csrf"


def _post(client: TestClient, token: str) -> int:
    data = {"username": "ana", "password": PASSWORD, "csrf_token": token}
    return client.post("/dashboard/login", data=data, follow_redirects=False).status_code


def test_a_made_up_pair_is_refused(client: TestClient, admin: str) -> None:
    client.cookies.set(COOKIE, "attacker-chosen-value", path="/dashboard")
    assert _post(client, "attacker-chosen-value") == 403


def test_a_token_from_another_browser_is_refused(
    client: TestClient, other_client: Callable[[], TestClient], admin: str
) -> None:
    with other_client() as other:
        stolen = csrf_of(other.get("/dashboard/login").text)
    client.get("/dashboard/login")  # this browser's own cookie
    assert _post(client, stolen) == 403
    assert _post(client, csrf_of(client.get("/dashboard/login").text)) == 303


def test_tokens_need_the_key() -> None:
    signer, other = LoginCsrf("k" * 40), LoginCsrf("j" * 40)
    token = signer.token("nonce")
    assert signer.verify("nonce", token)
    assert not signer.verify("other-nonce", token)
    assert not other.verify("nonce", token)
    assert not signer.verify("nonce", "nonce") and not signer.verify("nonce", None)
