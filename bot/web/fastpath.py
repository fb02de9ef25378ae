"""The webhooks' short way through the application.

Every request to a FastAPI app passes its middleware stack (error pages, telemetry, the body
limit, exception handlers, the async exit stack, the router and its included routers) before
reaching a route. For the two webhooks, which take hundreds of requests a second and need
none of it, that walk was a fifth of the server's CPU (``docs/benchmarks.md``). ``App``
puts ``WebhookShortcut`` outside the stack: a ``POST`` to a webhook path goes straight to its
handler; every other request goes through the stack as before.

The handlers enforce their own body limit and return a response for every outcome. An
exception escaping one (a bug) reaches the server, which logs it and answers 500, as the
stack's error middleware would.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

Handler = Callable[[Request], Awaitable[Response]]


class WebhookShortcut:
    """ASGI: ``POST`` requests to ``routes``' paths → their handler; the rest → ``app``."""

    def __init__(self, app: ASGIApp, routes: Mapping[str, Handler]) -> None:
        self.app = app
        self.routes = dict(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            handler = self.routes.get(_route_path(scope))
            if handler is not None:
                response = await handler(Request(scope, receive, send))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _route_path(scope: Scope) -> str:
    """The path without the prefix the app is mounted under (``root_path``), as routes see it."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


class App(FastAPI):
    """FastAPI, with ``shortcuts`` (path → handler) taken before the middleware stack."""

    def __init__(self, *, shortcuts: Mapping[str, Handler], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.shortcuts = dict(shortcuts)

    def build_middleware_stack(self) -> ASGIApp:
        return WebhookShortcut(super().build_middleware_stack(), self.shortcuts)
