"""Pytest fixtures for the fake APIs.

In a conftest: ``from tests.fakes.fixtures import loopback_only, telegram_api, twilio_api``
(with ``# noqa: F401``). In a test module, assign them instead, which keeps ruff's F811 quiet
when a test takes the fixture as a parameter: ``telegram_api = fixtures.telegram_api``.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes.loopback import LoopbackGuard
from tests.fakes.telegram_api import FakeTelegramApi
from tests.fakes.twilio_api import FakeTwilioApi


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> LoopbackGuard:
    """Fail any DNS lookup or socket connect that is not for the loopback interface."""
    guard = LoopbackGuard()
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        guard.check(host)
        return real_getaddrinfo(host, *args, **kwargs)

    def _check_address(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            guard.check(address[0])

    def connect(sock: socket.socket, address: Any) -> None:
        _check_address(sock, address)
        real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        _check_address(sock, address)
        return real_connect_ex(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    return guard


@pytest.fixture
def telegram_api() -> Iterator[FakeTelegramApi]:
    """A running fake Bot API; ``telegram.Bot(telegram_api.token, base_url=...base_url)``."""
    with FakeTelegramApi() as fake:
        yield fake


@pytest.fixture
def twilio_api() -> Iterator[FakeTwilioApi]:
    """A running fake Twilio REST API; its base URL is ``twilio_api.url``."""
    with FakeTwilioApi() as fake:
        yield fake
