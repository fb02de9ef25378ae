"""BackgroundServer starts on a free loopback port and stops cleanly."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tests.fakes.server import BackgroundServer


async def _hello(request: object) -> PlainTextResponse:
    return PlainTextResponse("hi")


def test_start_serve_stop() -> None:
    server = BackgroundServer(Starlette(routes=[Route("/", _hello)]))
    with pytest.raises(RuntimeError):
        _ = server.url
    with server, httpx.Client() as client:
        assert server.url.startswith("http://127.0.0.1:")
        assert client.get(server.url).text == "hi"
        assert client.get(server.url).text == "hi"  # kept-alive connection open at stop
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url)
    server.stop()  # idempotent
