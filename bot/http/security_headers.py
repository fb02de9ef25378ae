"""Security headers on every response that goes through the middleware stack: dashboard
pages and its 404s, the simulator, health and metrics (the webhooks' short way answers
platforms, not browsers).

The dashboard's pages have no inline script or style, so their policy is strict. The
simulator page is one file with an inline ``<style>`` and ``<script>``: its policy allows
exactly those blocks by their SHA-256, nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_COMMON = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
#: Every response: the strict policy (no inline code, nothing from elsewhere).
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    **_COMMON,
}
_BLOCK = re.compile(r"<(script|style)>(.*?)</\1>", re.DOTALL)


def _digest(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def inline_page_headers(html: str) -> dict[str, str]:
    """Headers for a page whose only code is its own inline blocks (the simulator)."""
    scripts = [_digest(body) for kind, body in _BLOCK.findall(html) if kind == "script"]
    styles = [_digest(body) for kind, body in _BLOCK.findall(html) if kind == "style"]
    style_src = " ".join(styles) or "'none'"
    script_src = " ".join(scripts) or "'none'"
    policy = (
        "default-src 'self'; img-src 'self' data:; "
        f"style-src {style_src}; script-src {script_src}; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
        "form-action 'self'"
    )
    return {"Content-Security-Policy": policy, **_COMMON}


class SecurityHeaders:
    """ASGI middleware: adds ``SECURITY_HEADERS`` (or the ``pages`` entry for the path) to
    every HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp, pages: Mapping[str, Mapping[str, str]] | None = None):
        self.app = app
        self.pages = dict(pages or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = self.pages.get(scope.get("path", ""), SECURITY_HEADERS)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in wanted.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, with_headers)
