"""``POST /webhooks/telegram`` and ``POST /webhooks/whatsapp``: authenticate, parse, record.

Each webhook answers only after its message is committed to the inbox (or recognised as a
redelivery); the conversation step runs afterwards in the inbox loop, and the replies go out
through the outbox. Anything authentic that we cannot use is answered 2xx and ignored, so the
platforms never redeliver a poison message forever; a forged request gets 403, a body that is
not an update 400, and a database outage 503 (the platform retries). Nothing personal (chat
ids, phone numbers, message text) is logged.

A Telegram button press is answered in the webhook's own response: its body is the
``answerCallbackQuery`` call, which the Bot API makes on receiving it ("Making requests when
getting updates"). The press is answered at once, with no request of ours, whenever Telegram
gets our 2xx; a press whose response was lost is redelivered and answered then. (The Bot API
does not tell whether such a call succeeded; an answer has nothing to deliver but the end of
the client's progress bar.)
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from time import perf_counter

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bot.channels.intake import Intake, IntakeUnavailable
from bot.channels.telegram import inbound as telegram
from bot.channels.whatsapp import inbound as whatsapp
from bot.db.models import utcnow
from bot.delivery import stats
from bot.flows.types import Inbound
from bot.loops import Workers
from bot.observability import DUPLICATES_DROPPED, MESSAGES_IN, WEBHOOK_LATENCY
from bot.runtime import Runtime
from bot.worker import CRISIS_LANE

log = logging.getLogger(__name__)
router = APIRouter()

TELEGRAM_PATH = "/webhooks/telegram"
WHATSAPP_PATH = "/webhooks/whatsapp"
SECRET_HEADER = b"x-telegram-bot-api-secret-token"
TWILIO_SIGNATURE_HEADER = b"x-twilio-signature"
TWILIO_SETTINGS_HEADER = b"x-twilio-webhooks-signature-settings"
#: Larger bodies are refused (413): real updates and Twilio forms are a few kB.
MAX_BODY_BYTES = 256 * 1024
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
#: Seconds a platform is asked to wait before retrying a 503 (the database did not answer).
RETRY_AFTER = "5"


class BodyTooLarge(ValueError):
    pass


def intake_of(request: Request) -> Intake:
    """The app's intake writer (made on first use); a commit wakes the inbox loop."""
    state = request.app.state
    intake: Intake | None = getattr(state, "intake", None)
    if intake is None:
        runtime: Runtime = state.runtime
        workers = getattr(state, "workers", None)
        on_commit = (lambda: workers.wake("inbox")) if workers is not None else None
        intake = Intake(runtime.conversations.recorder, on_commit=on_commit)
        if workers is not None:
            workers.pressure = intake.saturated  # the loops give way while it is saturated
        state.intake = intake
    return intake


def header(request: Request, name: bytes) -> str | None:
    """One request header (``name`` in lower case), read straight from the ASGI scope."""
    for key, value in request.scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    declared = header(request, b"content-length") or ""
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _outcome(channel: str, outcome: str) -> None:
    MESSAGES_IN.inc(channel=channel, outcome=outcome)


def unavailable() -> Response:
    """503 (the store cannot answer, or the service is not configured): the platform
    retries after ``Retry-After``."""
    return Response(status_code=503, headers={"Retry-After": RETRY_AFTER})


async def _record(request: Request, channel: str, inbound: Inbound) -> str:
    """Record ``inbound``; returns the outcome (accepted/duplicate). Raises IntakeUnavailable,
    also when the database has not answered within ``REQUEST_TIMEOUT``: the message may still
    be recorded afterwards, and its redelivery is then recognised as a duplicate."""
    settings = request.app.state.runtime.settings
    try:
        async with asyncio.timeout(settings.request_timeout):  # a timer, no extra task
            received = await intake_of(request).submit(inbound)
    except TimeoutError:
        log.error("inbound message not recorded in time: the database did not answer")
        raise IntakeUnavailable("the database did not answer in time") from None
    if received.duplicate:
        DUPLICATES_DROPPED.inc(channel=channel)
        return "duplicate"
    if received.urgent:
        _wake_crisis_lane(request)
    return "accepted"


def _wake_crisis_lane(request: Request) -> None:
    """Crisis words in a recorded message (flagged by the intake): this process's crisis
    lane runs the person's steps now instead of at its next poll (``bot.escalation.fastlane``);
    the lane of any other process finds the flag at its next poll."""
    workers: Workers | None = getattr(request.app.state, "workers", None)
    if workers is not None:
        workers.wake(CRISIS_LANE)


# --- Telegram ------------------------------------------------------------------------------


async def telegram_webhook(request: Request) -> Response:
    started = perf_counter()
    try:
        status, outcome, callback_query_id = await _telegram(request)
    finally:
        WEBHOOK_LATENCY.observe(perf_counter() - started, channel=telegram.CHANNEL)
    _outcome(telegram.CHANNEL, outcome)
    if status == 200 and callback_query_id is not None:
        stats.outcome(telegram.CHANNEL, "answered_in_webhook")
        return Response(answer_callback_query(callback_query_id), media_type="application/json")
    if status == 503:
        return unavailable()
    return Response(status_code=status)


def answer_callback_query(callback_query_id: str) -> bytes:
    """The body of a webhook response that answers a button press."""
    call = {"method": "answerCallbackQuery", "callback_query_id": callback_query_id}
    return json.dumps(call, separators=(",", ":")).encode()


async def _telegram(request: Request) -> tuple[int, str, str | None]:
    """(HTTP status, outcome, the id of a pressed button's query to answer)."""
    runtime: Runtime = request.app.state.runtime
    settings = runtime.settings
    if settings.telegram_webhook_secret is None:
        log.warning("telegram webhook called but TELEGRAM_WEBHOOK_SECRET is not set")
        return 503, "rejected", None
    expected = settings.telegram_webhook_secret.get_secret_value().encode()
    given = (header(request, SECRET_HEADER) or "").encode("latin-1")
    if not hmac.compare_digest(given, expected):
        log.warning("telegram webhook with a wrong secret token refused")
        return 403, "rejected", None
    try:
        data = telegram.load_update(await read_body(request))
    except BodyTooLarge:
        return 413, "rejected", None
    except telegram.MalformedUpdate:
        return 400, "rejected", None
    bot_id = telegram.bot_id_of(
        settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else None
    )
    parsed = telegram.parse_update(data, bot_id=bot_id, received_at=utcnow())
    inbound = parsed.inbound
    answer = parsed.callback_query_id
    if inbound is None:
        return 200, "ignored", answer
    if parsed.edited and runtime.conversations.flow.detect_crisis(inbound.text) is None:
        # An edit is not a new answer; it is read only for crisis words.
        return 200, "ignored", answer
    try:
        outcome = await _record(request, telegram.CHANNEL, inbound)
    except IntakeUnavailable:
        return 503, "rejected", None  # not answered: Telegram redelivers the press
    return 200, outcome, answer


# --- WhatsApp (Twilio) -----------------------------------------------------------------------


def _twiml(status: int = 200) -> Response:
    return Response(EMPTY_TWIML, status_code=status, media_type="text/xml")


async def whatsapp_webhook(request: Request) -> Response:
    started = perf_counter()
    try:
        status, outcome = await _whatsapp(request)
    finally:
        WEBHOOK_LATENCY.observe(perf_counter() - started, channel=whatsapp.CHANNEL)
    _outcome(whatsapp.CHANNEL, outcome)
    if status == 200:
        return _twiml()
    if status == 503:
        return unavailable()
    return Response(status_code=status)


async def _whatsapp(request: Request) -> tuple[int, str]:
    runtime: Runtime = request.app.state.runtime
    settings = runtime.settings
    if settings.twilio_auth_token is None:
        log.warning("whatsapp webhook called but TWILIO_AUTH_TOKEN is not set")
        return 503, "rejected"
    try:
        params = whatsapp.parse_form(await read_body(request))
    except BodyTooLarge:
        return 413, "rejected"
    if not twilio_signed(
        request, WHATSAPP_PATH, params, fragment=settings.twilio_webhook_overrides
    ):
        log.warning("whatsapp webhook with a bad X-Twilio-Signature refused")
        return 403, "rejected"
    parsed = whatsapp.parse_message(params, received_at=utcnow())
    if parsed.inbound is None:
        return 200, "ignored"
    try:
        outcome = await _record(request, whatsapp.CHANNEL, parsed.inbound)
    except IntakeUnavailable:
        return 503, "rejected"
    return 200, outcome


def twilio_signed(
    request: Request, path: str, params: whatsapp.FormParams, *, fragment: str | None = None
) -> bool:
    """Whether ``X-Twilio-Signature`` signs this request to ``PUBLIC_BASE_URL`` + ``path``
    (+ the query string) with ``TWILIO_AUTH_TOKEN`` (which the caller checked is set)."""
    settings = request.app.state.runtime.settings
    assert settings.twilio_auth_token is not None
    url = whatsapp.signed_url(
        settings.public_base_url, path, request.scope["query_string"].decode("latin-1")
    )
    return whatsapp.signature_valid(
        settings.twilio_auth_token.get_secret_value(),
        url,
        params,
        header(request, TWILIO_SIGNATURE_HEADER),
        header(request, TWILIO_SETTINGS_HEADER),
        fragment=fragment,
    )


# Plain Starlette routes: these endpoints take only the request, so FastAPI's dependency
# solving (a good share of a webhook's cost) is skipped.
router.add_route(TELEGRAM_PATH, telegram_webhook, methods=["POST"], include_in_schema=False)
router.add_route(WHATSAPP_PATH, whatsapp_webhook, methods=["POST"], include_in_schema=False)
#: The same handlers, taken before the app's middleware stack (``bot.web.fastpath``); the
#: routes above stay for everything else (a GET there is answered 405 by the router).
SHORTCUTS = {TELEGRAM_PATH: telegram_webhook, WHATSAPP_PATH: whatsapp_webhook}
