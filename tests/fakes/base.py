"""What every fake platform API shares: a background server, its lifecycle, the call log."""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any, ClassVar, Self

from starlette.requests import Request

from tests.fakes.recorder import CallLog, CallPredicate, RecordedCall
from tests.fakes.server import BackgroundServer


class FakeApi:
    """Subclasses set ``self.log`` and ``self.server`` in ``__init__``."""

    #: The method ``wait_for`` waits for when none is named.
    default_method: ClassVar[str | None] = None
    log: CallLog
    server: BackgroundServer

    # -- lifecycle -----------------------------------------------------------------------
    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> Self:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- recording -----------------------------------------------------------------------
    def log_download(
        self, method: str, request: Request, params: dict[str, Any] | None = None
    ) -> None:
        """Record a file download (a GET with no body): its path and headers, credentials
        included, so a test can check how the file was asked for."""
        self.log.append(
            RecordedCall(
                method=method,
                params=params or {},
                time=time.monotonic(),
                status=200,
                path=request.url.path,
                content_type="",
                raw={},
                headers=dict(request.headers),
            )
        )

    # -- inspection ----------------------------------------------------------------------
    def calls(self, method: str | None = None) -> list[RecordedCall]:
        return self.log.calls(method)

    def mark(self) -> int:
        return self.log.mark()

    def wait_for(
        self,
        method: str | None = None,
        predicate: CallPredicate | None = None,
        timeout: float = 5.0,
        *,
        since: int = 0,
    ) -> RecordedCall:
        method = method or self.default_method
        return self.log.wait_for(method, predicate, timeout, since=since)

    async def wait_for_async(
        self,
        method: str | None = None,
        predicate: CallPredicate | None = None,
        timeout: float = 5.0,
        *,
        since: int = 0,
    ) -> RecordedCall:
        method = method or self.default_method
        return await self.log.wait_for_async(method, predicate, timeout, since=since)
