"""A fake Telegram Bot API server: ``/bot<token>/<method>`` on 127.0.0.1.

Point ``telegram.Bot(token, base_url=fake.base_url)`` at it. Every call is recorded; failures
and delays can be programmed per method and chat.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.base import FakeApi
from tests.fakes.bodies import read_pairs
from tests.fakes.recorder import CallLog, Fault, FaultBook, RecordedCall
from tests.fakes.server import BackgroundServer

DEFAULT_TOKEN = "123456789:AAFakeTokenForTheOfflineBotApi_0123456"
BOT_USERNAME = "screening_test_bot"

# Parameters whose form value is a plain string; every other value is JSON-decoded when it can
# be, which mirrors how python-telegram-bot encodes them (json.dumps for non-strings).
STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "url",
        "secret_token",
        "ip_address",
        "business_connection_id",
        "message_effect_id",
        "action",
        "emoji",
    }
)

DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request",
    500: "Internal Server Error",
    502: "Bad Gateway",
}

Handler = Callable[[dict[str, Any]], Any]


class ApiError(Exception):
    """Raise from a handler to answer ``{"ok": false, ...}`` with this status."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def error_body(
    status: int, description: str | None = None, retry_after: int | None = None
) -> dict[str, Any]:
    if status == 429:
        seconds = retry_after if retry_after is not None else 1
        return {
            "ok": False,
            "error_code": 429,
            "description": description or f"Too Many Requests: retry after {seconds}",
            "parameters": {"retry_after": seconds},
        }
    text = description or DEFAULT_DESCRIPTIONS.get(status, f"Error {status}")
    return {"ok": False, "error_code": status, "description": text}


def decode_params(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """Turn form strings back into Bot API values (ints, bools, objects)."""
    params: dict[str, Any] = {}
    for name, value in pairs:
        if isinstance(value, str) and name not in STRING_PARAMS:
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        params[name] = value
    return params


def _bot_id(token: str) -> int:
    prefix = token.split(":", 1)[0]
    return int(prefix) if prefix.isdigit() else 1


def _chat(chat_id: Any) -> dict[str, Any]:
    if isinstance(chat_id, int):
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": "Test"}
        return {"id": chat_id, "type": "supergroup", "title": "Test group"}
    name = str(chat_id).lstrip("@")
    return {"id": -1001000000001, "type": "channel", "title": name, "username": name}


def _callback_data_ok(markup: Any) -> bool:
    rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
    for row in rows:
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                return False
    return True


class FakeTelegramApi(FakeApi):
    """Fake Bot API. ``with FakeTelegramApi() as fake: Bot(fake.token, base_url=fake.base_url)``.

    Inspect with ``calls()``, ``wait_for()``/``wait_for_async()``, ``sent_messages``,
    ``webhook``. Program failures with ``fail_next()``, ``rate_limit()``, ``block()``,
    ``delay_next()``; add methods with ``set_handler()``.
    """

    def __init__(self, tokens: Iterable[str] = (DEFAULT_TOKEN,)) -> None:
        token_list = list(tokens)
        if not token_list:
            raise ValueError("at least one token is needed")
        self.tokens: set[str] = set(token_list)
        self.token = token_list[0]
        self.log = CallLog()
        self.faults = FaultBook()
        self.sent_messages: dict[tuple[str, int], dict[str, Any]] = {}
        self.webhook: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._next_message_id = 1
        self._handlers: dict[str, Handler] = {
            "getMe": self._get_me,
            "sendMessage": self._send_message,
            "answerCallbackQuery": self._answer_callback_query,
            "editMessageReplyMarkup": self._edit_reply_markup,
            "editMessageText": self._edit_text,
            "sendChatAction": lambda params: True,
            "deleteMessage": lambda params: True,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "deleteWebhook": self._delete_webhook,
            "getFile": self._get_file,
        }
        #: Files people "sent": file_id → (file_path, content); see ``add_file``.
        self.files: dict[str, tuple[str, bytes]] = {}
        self._current_token = self.token
        self.app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self._file, methods=["GET"]),
                Route("/{path:path}", self._not_found, methods=["GET", "POST"]),
            ]
        )
        self.server = BackgroundServer(self.app)

    @property
    def base_url(self) -> str:
        """What to pass as ``telegram.Bot(base_url=...)``: ``http://127.0.0.1:<port>/bot``."""
        return f"{self.url}/bot"

    def reset(self) -> None:
        """Forget calls, faults, messages and the webhook."""
        self.log.clear()
        self.faults.clear()
        with self._lock:
            self.sent_messages.clear()
            self.webhook.clear()

    # -- programming -----------------------------------------------------------------------
    def fail_next(
        self,
        method: str,
        status: int,
        *,
        times: int | None = 1,
        chat_id: int | str | None = None,
        retry_after: int | None = None,
        description: str | None = None,
        delay: float = 0.0,
    ) -> None:
        """Answer the next ``times`` calls (None: all) of ``method`` with an error."""
        body = error_body(status, description, retry_after)
        target = None if chat_id is None else str(chat_id)
        self.faults.add(method, Fault(status, body, delay, target, times))

    def rate_limit(
        self,
        method: str,
        retry_after: int,
        *,
        times: int | None = 1,
        chat_id: int | str | None = None,
    ) -> None:
        self.fail_next(method, 429, times=times, chat_id=chat_id, retry_after=retry_after)

    def block(
        self, chat_id: int | str, *, method: str = "sendMessage", times: int | None = None
    ) -> None:
        """The user blocked the bot: 403 for this chat (forever unless ``times``)."""
        self.fail_next(method, 403, times=times, chat_id=chat_id)

    def delay_next(
        self,
        method: str,
        seconds: float,
        *,
        times: int | None = 1,
        chat_id: int | str | None = None,
    ) -> None:
        """Answer normally, but only after ``seconds`` (to trigger client timeouts)."""
        target = None if chat_id is None else str(chat_id)
        self.faults.add(method, Fault(None, None, seconds, target, times))

    def add_file(self, file_id: str, content: bytes, file_path: str = "voice/file_1.oga") -> None:
        """A file a person sent: ``getFile`` describes it and the file URL serves it."""
        with self._lock:
            self.files[file_id] = (file_path, content)

    def clear_faults(self) -> None:
        self.faults.clear()

    def set_handler(self, method: str, handler: Handler) -> None:
        """Serve ``method``: ``handler(params)`` returns the ``result`` or raises ApiError."""
        self._handlers[method] = handler

    # -- HTTP ----------------------------------------------------------------------------
    async def _not_found(self, request: Request) -> JSONResponse:
        return JSONResponse(error_body(404), status_code=404)

    async def _endpoint(self, request: Request) -> JSONResponse:
        arrived = time.monotonic()
        token = request.path_params["token"]
        method = request.path_params["method"]
        try:
            pairs, media_type = await read_pairs(request)
        except ValueError as err:
            pairs, media_type = [], "invalid"
            status, body, delay = 400, error_body(400, f"Bad Request: {err}"), 0.0
        else:
            status, body, delay = self._respond(token, method, decode_params(pairs))
        self.log.append(
            RecordedCall(
                method=method,
                params=decode_params(pairs),  # a fresh copy: handlers keep their own
                time=arrived,
                status=status,
                path=request.url.path,
                content_type=media_type,
                raw=dict(pairs),
                headers=dict(request.headers),
            )
        )
        if delay:
            await asyncio.sleep(delay)
        return JSONResponse(body, status_code=status)

    def _respond(
        self, token: str, method: str, params: dict[str, Any]
    ) -> tuple[int, dict[str, Any], float]:
        if token not in self.tokens:
            return 401, error_body(401), 0.0
        chat_id = params.get("chat_id")
        fault = self.faults.take(method, None if chat_id is None else str(chat_id))
        delay = fault.delay if fault else 0.0
        if fault is not None and fault.status is not None and fault.body is not None:
            return fault.status, fault.body, delay
        handler = self._handlers.get(method)
        if handler is None:
            return 404, error_body(404), delay
        self._current_token = token
        try:
            result = handler(params)
        except ApiError as err:
            return err.status, error_body(err.status, err.description), delay
        return 200, {"ok": True, "result": result}, delay

    async def _file(self, request: Request) -> Response:
        """``GET /file/bot<token>/<file_path>``: the file's bytes (404 for anything else)."""
        token = request.path_params["token"]
        path = request.path_params["path"]
        self.log_download("downloadFile", request, {"file_path": path})
        with self._lock:
            found = [body for file_path, body in self.files.values() if file_path == path]
        if token not in self.tokens or not found:
            return Response(b"Not Found", status_code=404)
        return Response(found[0], media_type="application/octet-stream")

    # -- methods -------------------------------------------------------------------------
    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": _bot_id(self._current_token),
            "is_bot": True,
            "first_name": "Screening Test Bot",
            "username": BOT_USERNAME,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _get_file(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = str(params.get("file_id") or "")
        with self._lock:
            found = self.files.get(file_id)
        if found is None:
            raise ApiError(400, "Bad Request: wrong file_id or the file is temporarily unavailable")
        file_path, content = found
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": len(content),
            "file_path": file_path,
        }

    def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._bot_user()

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            raise ApiError(400, "Bad Request: chat_id is empty")
        text = params.get("text")
        if not text:
            raise ApiError(400, "Bad Request: message text is empty")
        if len(str(text)) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        markup = params.get("reply_markup")
        if not _callback_data_ok(markup):
            raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        with self._lock:
            message_id = self._next_message_id
            self._next_message_id += 1
            message: dict[str, Any] = {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": _chat(chat_id),
                "from": self._bot_user(),
                "text": str(text),
            }
            # Telegram returns only inline keyboards in the sent Message.
            if isinstance(markup, dict) and "inline_keyboard" in markup:
                message["reply_markup"] = markup
            self.sent_messages[(str(chat_id), message_id)] = message
        return message

    def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        if not params.get("callback_query_id"):
            raise ApiError(400, "Bad Request: query is too old and response timeout expired")
        if len(str(params.get("text", ""))) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    def _stored_message(self, params: dict[str, Any]) -> dict[str, Any] | None:
        """The message to edit, or None for an inline message (answered with True)."""
        if params.get("inline_message_id"):
            return None
        key = (str(params.get("chat_id")), params.get("message_id"))
        if not isinstance(key[1], int) or key not in self.sent_messages:
            raise ApiError(400, "Bad Request: message to edit not found")
        return self.sent_messages[key]

    def _edit_reply_markup(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        with self._lock:
            message = self._stored_message(params)
            if message is None:
                return True
            markup = params.get("reply_markup")
            new = markup if isinstance(markup, dict) and markup.get("inline_keyboard") else None
            if new == message.get("reply_markup"):
                raise ApiError(400, "Bad Request: message is not modified")
            if new is None:
                message.pop("reply_markup", None)
            else:
                message["reply_markup"] = new
            message["edit_date"] = int(time.time())
            return dict(message)

    def _edit_text(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        text = params.get("text")
        if not text:
            raise ApiError(400, "Bad Request: message text is empty")
        with self._lock:
            message = self._stored_message(params)
            if message is None:
                return True
            markup = params.get("reply_markup")
            new = markup if isinstance(markup, dict) and markup.get("inline_keyboard") else None
            if text == message.get("text") and new == message.get("reply_markup"):
                raise ApiError(400, "Bad Request: message is not modified")
            message["text"] = str(text)
            if new is None:
                message.pop("reply_markup", None)
            else:
                message["reply_markup"] = new
            message["edit_date"] = int(time.time())
            return dict(message)

    def _set_webhook(self, params: dict[str, Any]) -> bool:
        url = params.get("url", "")
        with self._lock:
            self.webhook.clear()
            if url:
                self.webhook.update({k: v for k, v in params.items() if k != "certificate"})
        return True

    def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            info: dict[str, Any] = {
                "url": self.webhook.get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": 0,
            }
            if self.webhook.get("url"):
                info["max_connections"] = self.webhook.get("max_connections", 40)
                if "allowed_updates" in self.webhook:
                    info["allowed_updates"] = self.webhook["allowed_updates"]
                if "ip_address" in self.webhook:
                    info["ip_address"] = self.webhook["ip_address"]
        return info

    def _delete_webhook(self, params: dict[str, Any]) -> bool:
        with self._lock:
            self.webhook.clear()
        return True
