"""Detect network access that leaves the loopback interface."""

from __future__ import annotations

import ipaddress
from typing import Any


class NetworkBlockedError(OSError):
    """A test tried to reach something other than the loopback interface."""


def _is_loopback(host: Any) -> bool:
    if host is None:
        return True  # getaddrinfo(None, port) means the local host
    if isinstance(host, bytes):
        host = host.decode()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


class LoopbackGuard:
    """Records every DNS lookup / connect; refuses those that leave 127.0.0.1 / ::1."""

    def __init__(self) -> None:
        self.attempts: list[str] = []
        self.blocked: list[str] = []

    def check(self, host: Any) -> None:
        # An async resolver (anyio, under httpx.AsyncClient) passes the host name as bytes.
        name = host.decode() if isinstance(host, bytes) else str(host)
        self.attempts.append(name)
        if not _is_loopback(host):
            self.blocked.append(name)
            raise NetworkBlockedError(f"network access to {host!r} blocked in tests")
