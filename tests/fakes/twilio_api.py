"""A fake Twilio REST API (Messages resource) on 127.0.0.1.

Build the real SDK client with ``make_async_twilio_client(fake.account_sid, fake.auth_token,
fake.url)``. Every call is recorded; errors and delays can be programmed.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import secrets
import threading
import time
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.fakes.base import FakeApi
from tests.fakes.bodies import read_pairs
from tests.fakes.recorder import CallLog, Fault, FaultBook, RecordedCall
from tests.fakes.server import BackgroundServer

DEFAULT_ACCOUNT_SID = "AC" + "0f" * 16
DEFAULT_AUTH_TOKEN = "fa4e" * 8
API_PREFIX = "/2010-04-01/Accounts"

# Twilio error code -> (HTTP status, message).
KNOWN_ERRORS: dict[int, tuple[int, str]] = {
    20003: (401, "Authenticate"),
    20404: (404, "The requested resource was not found"),
    20429: (429, "Too Many Requests"),
    20500: (500, "Internal Server Error"),
    20503: (503, "Service Unavailable"),
    21211: (400, "The 'To' number is not a valid phone number."),
    21603: (400, "A 'From' phone number is required."),
    21604: (400, "A 'To' phone number is required."),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21617: (400, "The concatenated message body exceeds the 1600 character limit."),
    21619: (400, "A text message body or media urls must be specified."),
    21656: (400, "The ContentVariables Parameter is invalid."),
    63016: (
        400,
        "Failed to send freeform message because you are outside the allowed window. "
        "If you want to send messages outside the allowed window, please use a Message "
        "Template.",
    ),
}
CODE_FOR_STATUS = {401: 20003, 404: 20404, 429: 20429, 500: 20500, 503: 20503}


def error_body(code: int, message: str | None = None, status: int | None = None) -> dict[str, Any]:
    """Twilio's legacy error JSON (what ``TwilioRestException`` parses)."""
    known_status, known_message = KNOWN_ERRORS.get(code, (400, f"Error {code}"))
    return {
        "code": code,
        "message": message or known_message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status or known_status,
    }


def new_sid(prefix: str = "SM") -> str:
    return prefix + secrets.token_hex(16)


def _rfc2822_now() -> str:
    return datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")


def _basic_auth(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(encoded).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


def _form_dict(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Single fields as strings, repeated fields (MediaUrl) as lists."""
    params: dict[str, Any] = {}
    for name, value in pairs:
        if name in params:
            previous = params[name]
            params[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            params[name] = value
    return params


class _ApiError(Exception):
    def __init__(self, code: int, message: str | None = None) -> None:
        super().__init__(code)
        self.body = error_body(code, message)
        self.status = int(self.body["status"])


class FakeTwilioApi(FakeApi):
    """Fake Twilio. ``with FakeTwilioApi() as fake: ...``; ``fake.url`` is the base URL.

    Inspect with ``calls("messages.create")``, ``wait_for()``, ``messages`` (by sid).
    Program errors with ``fail_next()`` and slowness with ``delay_next()``.
    """

    default_method = "messages.create"

    def __init__(
        self, account_sid: str = DEFAULT_ACCOUNT_SID, auth_token: str = DEFAULT_AUTH_TOKEN
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.log = CallLog()
        self.faults = FaultBook()
        self.messages: dict[str, dict[str, Any]] = {}
        #: Files people "sent": media path → (content, content type); see ``add_media``.
        self.media: dict[str, tuple[bytes, str]] = {}
        self._cdn: dict[str, str] = {}
        self._lock = threading.Lock()
        messages = f"{API_PREFIX}/{{account}}/Messages"
        self.app = Starlette(
            routes=[
                Route(f"{messages}.json", self._create, methods=["POST"]),
                Route(f"{messages}/{{sid}}.json", self._fetch, methods=["GET"]),
                Route(f"{messages}/{{sid}}/Media/{{media}}", self._media, methods=["GET"]),
                Route("/cdn/{key}", self._cdn_file, methods=["GET"]),
                Route("/{path:path}", self._not_found, methods=["GET", "POST", "DELETE"]),
            ]
        )
        self.server = BackgroundServer(self.app)

    def reset(self) -> None:
        self.log.clear()
        self.faults.clear()
        with self._lock:
            self.messages.clear()

    def status_callback_params(
        self, message_sid: str, status: str, *, error_code: int | None = None
    ) -> dict[str, str]:
        """The form Twilio would POST to the message's StatusCallback (sign it yourself)."""
        with self._lock:
            message = self.messages[message_sid]
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "ChannelPrefix": "whatsapp",
            "From": message["from"] or "",
            "MessageSid": message_sid,
            "MessageStatus": status,
            "SmsSid": message_sid,
            "SmsStatus": status,
            "To": message["to"],
        }
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        return params

    # -- programming -----------------------------------------------------------------------
    def fail_next(
        self,
        status: int | None = None,
        *,
        code: int | None = None,
        message: str | None = None,
        times: int | None = 1,
        to: str | None = None,
        delay: float = 0.0,
        method: str = "messages.create",
    ) -> None:
        """Answer the next ``times`` calls (None: all) with a Twilio error.

        Give a ``code`` (21610, 63016, 21211, ...; the status follows from it) or a
        ``status`` (429, 500, 503, ...; the code follows from it). ``to`` limits it to one
        recipient (``whatsapp:+34...``).
        """
        if code is None:
            if status is None:
                raise ValueError("give a status or a code")
            code = CODE_FOR_STATUS.get(status, status)
        body = error_body(code, message, status)
        self.faults.add(method, Fault(int(body["status"]), body, delay, to, times))

    def delay_next(
        self,
        seconds: float,
        *,
        times: int | None = 1,
        to: str | None = None,
        method: str = "messages.create",
    ) -> None:
        self.faults.add(method, Fault(None, None, seconds, to, times))

    def clear_faults(self) -> None:
        self.faults.clear()

    def add_media(self, message_sid: str, content: bytes, content_type: str) -> str:
        """A file attached to an incoming message: returns its ``MediaUrl`` as Twilio gives
        it (``https://api.twilio.com/…``; point the client at this fake to fetch it)."""
        media_sid = "ME" + secrets.token_hex(16)
        path = f"{API_PREFIX}/{self.account_sid}/Messages/{message_sid}/Media/{media_sid}"
        with self._lock:
            self.media[path] = (content, content_type)
        return f"https://api.twilio.com{path}"

    def _authorised(self, request: Request) -> bool:
        credentials = _basic_auth(request.headers.get("authorization", ""))
        return credentials == (self.account_sid, self.auth_token)

    async def _media(self, request: Request) -> Response:
        """Like Twilio: the account's credentials, then a redirect to the file's storage."""
        self.log_download("media.fetch", request)
        if not self._authorised(request):
            return JSONResponse(error_body(20003), status_code=401)
        with self._lock:
            found = request.url.path in self.media
            key = secrets.token_hex(8)
            if found:
                self._cdn[key] = request.url.path
        if not found:
            return JSONResponse(error_body(20404), status_code=404)
        return RedirectResponse(f"/cdn/{key}", status_code=307)

    async def _cdn_file(self, request: Request) -> Response:
        with self._lock:
            path = self._cdn.get(request.path_params["key"])
            found = self.media.get(path) if path else None
        if found is None:
            return Response(b"Not Found", status_code=404)
        content, content_type = found
        return Response(content, media_type=content_type)

    # -- HTTP ----------------------------------------------------------------------------
    async def _not_found(self, request: Request) -> JSONResponse:
        body = error_body(20404, f"The requested resource {request.url.path} was not found")
        return JSONResponse(body, status_code=404)

    async def _create(self, request: Request) -> JSONResponse:
        return await self._serve(request, "messages.create", self._create_message)

    async def _fetch(self, request: Request) -> JSONResponse:
        return await self._serve(request, "messages.fetch", self._fetch_message)

    async def _serve(self, request: Request, method: str, handler: Any) -> JSONResponse:
        arrived = time.monotonic()
        delay = 0.0
        try:
            pairs, media_type = await read_pairs(request)
        except ValueError:
            pairs, media_type = [], "invalid"
        params = _form_dict(pairs)
        try:
            self._authorize(request)
            fault = self.faults.take(method, params.get("To"))
            if fault is not None:
                delay = fault.delay
            if fault is not None and fault.status is not None and fault.body is not None:
                status, body = fault.status, fault.body
            else:
                status, body = handler(request, params)
        except _ApiError as err:
            status, body = err.status, err.body
        headers = {k: v for k, v in request.headers.items() if k != "authorization"}
        self.log.append(
            RecordedCall(
                method=method,
                params=params,
                time=arrived,
                status=status,
                path=request.url.path,
                content_type=media_type,
                raw=params,
                headers=headers,
            )
        )
        if delay:
            await asyncio.sleep(delay)
        return JSONResponse(body, status_code=status)

    def _authorize(self, request: Request) -> None:
        credentials = _basic_auth(request.headers.get("authorization", ""))
        if credentials != (self.account_sid, self.auth_token):
            raise _ApiError(20003)
        if request.path_params["account"] != self.account_sid:
            raise _ApiError(20404, f"The requested resource {request.url.path} was not found")

    def _create_message(
        self, request: Request, params: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        to, from_ = params.get("To"), params.get("From")
        service = params.get("MessagingServiceSid")
        body = params.get("Body", "")
        if not to:
            raise _ApiError(21604)
        if not from_ and not service:
            raise _ApiError(21603)
        if not body and not params.get("ContentSid") and not params.get("MediaUrl"):
            raise _ApiError(21619)
        if len(body) > 1600:
            raise _ApiError(21617)
        if "ContentVariables" in params:
            try:
                json.loads(params["ContentVariables"])
            except ValueError as err:
                raise _ApiError(21656) from err
        sid = new_sid()
        now = _rfc2822_now()
        media = params.get("MediaUrl") or []
        uri = f"{API_PREFIX}/{self.account_sid}/Messages/{sid}"
        message = {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": from_,
            "messaging_service_sid": service,
            "num_media": str(len(media) if isinstance(media, list) else 1),
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued" if from_ else "accepted",
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": to,
            "uri": f"{uri}.json",
        }
        with self._lock:
            self.messages[sid] = message
        return 201, message

    def _fetch_message(
        self, request: Request, params: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        with self._lock:
            message = self.messages.get(request.path_params["sid"])
        if message is None:
            raise _ApiError(20404, f"The requested resource {request.url.path} was not found")
        return 200, message
