"""Webhook shortcuts skip the middleware stack; every other request still passes it."""

from __future__ import annotations

import httpx
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from bot.web.fastpath import App


async def hook(request: Request) -> Response:
    return PlainTextResponse(f"hook {await request.body()!r} {request.url.query}")


def make_app(seen: list[str]) -> App:
    app = App(shortcuts={"/hook": hook})

    @app.middleware("http")
    async def record(request: Request, call_next):  # type: ignore[no-untyped-def]
        seen.append(f"{request.method} {request.url.path}")
        return await call_next(request)

    @app.post("/other")
    async def other() -> dict[str, str]:
        return {"ok": "other"}

    return app


async def post(app: App, path: str, method: str = "POST", root_path: str = "") -> httpx.Response:
    transport = httpx.ASGITransport(app=app, root_path=root_path)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.request(method, path, content=b"body")


async def test_a_post_to_a_shortcut_goes_straight_to_its_handler() -> None:
    seen: list[str] = []
    app = make_app(seen)
    response = await post(app, "/hook?x=1")
    assert (response.status_code, response.text) == (200, "hook b'body' x=1")
    assert seen == []  # the middleware never saw it


async def test_other_requests_still_pass_the_stack() -> None:
    seen: list[str] = []
    app = make_app(seen)
    assert (await post(app, "/other")).json() == {"ok": "other"}
    assert (await post(app, "/hook", method="GET")).status_code == 404  # no GET route there
    assert seen == ["POST /other", "GET /hook"]


async def test_shortcuts_match_under_a_root_path() -> None:
    """Behind a proxy that serves the app under /bot (the server's --root-path)."""
    seen: list[str] = []
    app = make_app(seen)
    response = await post(app, "/bot/hook", root_path="/bot")
    assert response.status_code == 200 and response.text.startswith("hook")
    assert seen == []
