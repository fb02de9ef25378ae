"""Run an ASGI app with uvicorn in a background thread on 127.0.0.1 and a free port."""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Any, Self

import uvicorn
from starlette.types import ASGIApp

HOST = "127.0.0.1"


class BackgroundServer:
    """``with BackgroundServer(app) as server: server.url`` -> ``http://127.0.0.1:<port>``.

    The server thread runs its own asyncio loop, so the app serves requests while the test's
    loop (or a blocking test) waits. ``stop()`` closes the listening socket and open
    connections; requests still running after ``shutdown_timeout`` seconds are cancelled.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        startup_timeout: float = 10.0,
        shutdown_timeout: float = 2.0,
        options: dict[str, Any] | None = None,
    ) -> None:
        """``options``: more ``uvicorn.Config`` arguments (e.g. how ``serve`` runs it)."""
        settings: dict[str, Any] = {
            "host": HOST,
            "port": 0,
            "loop": "asyncio",
            "http": "h11",
            "ws": "none",
            "lifespan": "off",
            "access_log": False,
            "log_level": "warning",
            "timeout_graceful_shutdown": shutdown_timeout,
        }
        settings.update(options or {})
        self._config = uvicorn.Config(app, **settings)
        self._server = uvicorn.Server(self._config)
        self._thread: threading.Thread | None = None
        self._startup_timeout = startup_timeout
        self._shutdown_timeout = shutdown_timeout
        self._port: int | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("server not started")
        return self._port

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("server already started")
        self._thread = threading.Thread(
            target=self._server.run, name="fake-api-server", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + self._startup_timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("fake API server failed to start")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError("fake API server did not start in time")
            time.sleep(0.005)
        sockets = self._server.servers[0].sockets
        self._port = int(sockets[0].getsockname()[1])

    def stop(self) -> None:
        if self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout=self._shutdown_timeout + 5.0)
        if self._thread.is_alive():
            raise RuntimeError("fake API server did not stop")
        self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
