"""The Twilio HTTP client (async, built on httpx) that can send every request to another base
URL.

The twilio SDK hard-codes its hosts (``https://api.twilio.com`` and friends) and offers no
base-URL option, but it lets us supply the HTTP client. This client rewrites the scheme and
host of each request to ``base_url`` (our ``TWILIO_API_BASE_URL`` setting, used by tests to
reach a fake Twilio on 127.0.0.1) and keeps the path and query string. Without a base URL it
talks to Twilio's own hosts.

Every Twilio host collapses onto the one base URL, so a fake must route on the path alone.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit, urlunsplit

import httpx
from twilio.base.exceptions import TwilioException
from twilio.http import AsyncHttpClient
from twilio.http.request import Request as TwilioRequest
from twilio.http.response import Response
from twilio.rest import Client

#: Twilio's HTTP clients dump every request and response at INFO on this logger: it is
#: under ``twilio``, which ``bot.logging`` keeps at WARNING.
_logger = logging.getLogger("twilio.http_client")

_JSON_CONTENT_TYPES = frozenset({"application/json", "application/scim+json"})


class TwilioTransportError(TwilioException):  # type: ignore[misc]  # twilio is untyped: Any
    """The request got no HTTP response (connection refused, timeout, ...).

    The underlying ``httpx.HTTPError`` is the ``__cause__``. After a read timeout Twilio may
    still have accepted the message, so a retry can send it twice.
    """


def rewrite_url(uri: str, base_url: str | None) -> str:
    """Replace the scheme and host of ``uri`` by those of ``base_url``.

    A path in ``base_url`` becomes a prefix: ``http://127.0.0.1:9000/twilio`` turns
    ``https://api.twilio.com/2010-04-01/x.json?a=1`` into
    ``http://127.0.0.1:9000/twilio/2010-04-01/x.json?a=1``.
    """
    if not base_url:
        return uri
    base = urlsplit(base_url)
    if base.scheme not in ("http", "https") or not base.netloc:
        raise ValueError(f"base_url must be an absolute http(s) URL, got {base_url!r}")
    original = urlsplit(uri)
    path = base.path.rstrip("/") + original.path
    return urlunsplit((base.scheme, base.netloc, path, original.query, ""))


def _request_kwargs(
    method: str,
    url: str,
    params: Mapping[str, object] | None,
    data: Mapping[str, object] | None,
    headers: Mapping[str, str] | None,
    auth: tuple[str, str] | None,
    timeout: float | None,
    allow_redirects: bool,
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "method": method.upper(),
        "url": url,
        "params": dict(params) if params else None,
        "headers": dict(headers) if headers else None,
        "auth": auth,
        "timeout": timeout,
        "follow_redirects": allow_redirects,
    }
    content_type = (headers or {}).get("Content-Type", "")
    if content_type in _JSON_CONTENT_TYPES:
        kwargs["json"] = data
    elif data:
        kwargs["data"] = dict(data)
    return kwargs


def _as_twilio_request(
    kwargs: Mapping[str, Any], data: Mapping[str, object] | None
) -> TwilioRequest:
    return TwilioRequest(
        method=kwargs["method"],
        url=kwargs["url"],
        auth=kwargs["auth"],
        params=kwargs["params"],
        data=dict(data) if data else None,
        headers=kwargs["headers"],
    )


def _check_timeout(timeout: float | None, default: float | None) -> float | None:
    if timeout is None:
        return default
    if timeout <= 0:
        raise ValueError(timeout)
    return timeout


class AsyncBaseUrlHttpClient(AsyncHttpClient):  # type: ignore[misc]  # twilio is untyped: Any
    """Asynchronous twilio ``AsyncHttpClient`` on a pooled ``httpx.AsyncClient``.

    Use it with the SDK's ``*_async`` methods (``client.messages.create_async``) and close it
    with ``await client.close()`` (or ``async with``) on the same event loop.
    """

    def __init__(
        self,
        base_url: str | None,
        timeout: float = 10.0,
        *,
        logger: logging.Logger = _logger,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(logger, True, timeout)
        rewrite_url("https://api.twilio.com/", base_url)  # validate early
        self.base_url = base_url
        self._client = httpx.AsyncClient(timeout=timeout, transport=transport)

    async def request(
        self,
        method: str,
        uri: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        url = rewrite_url(uri, self.base_url)
        timeout = _check_timeout(timeout, self.timeout)
        kwargs = _request_kwargs(method, url, params, data, headers, auth, timeout, allow_redirects)
        self.log_request(kwargs)
        self._test_only_last_request = _as_twilio_request(kwargs, data)
        self._test_only_last_response = None
        try:
            raw = await self._client.request(**kwargs)
        except httpx.HTTPError as err:
            raise TwilioTransportError(f"{method.upper()} {url} failed: {err!r}") from err
        self.log_response(raw.status_code, raw)
        response = Response(raw.status_code, raw.text, raw.headers)
        self._test_only_last_response = response
        return response

    async def close(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


def make_async_twilio_client(
    account_sid: str, auth_token: str, base_url: str | None, *, timeout: float = 10.0
) -> Client:
    """A ``twilio.rest.Client`` for the ``*_async`` methods, on httpx.AsyncClient.

    Close it on the event loop that used it: ``await client.http_client.close()``.
    """
    return Client(
        account_sid,
        auth_token,
        http_client=AsyncBaseUrlHttpClient(base_url, timeout=timeout),
    )
