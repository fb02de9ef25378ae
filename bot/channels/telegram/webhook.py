"""``POST /webhooks/telegram``: check the secret token, parse the update, record its message
(:mod:`bot.channels.webhook`).

A Telegram button press is answered in the webhook's own response: its body is the
``answerCallbackQuery`` call, which the Bot API makes on receiving it ("Making requests when
getting updates"). The press is answered at once, with no request of ours, whenever Telegram
gets our 2xx; a press whose response was lost is redelivered and answered then. (The Bot API
does not tell whether such a call succeeded; an answer has nothing to deliver but the end of
the client's progress bar.)
"""

from __future__ import annotations

import hmac
import json
import logging
from time import perf_counter

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bot.channels import webhook
from bot.channels.intake import IntakeUnavailable
from bot.channels.telegram import inbound as telegram
from bot.db.models import utcnow
from bot.delivery import stats
from bot.observability import WEBHOOK_LATENCY
from bot.runtime import Runtime

log = logging.getLogger(__name__)
router = APIRouter()

PATH = "/webhooks/telegram"
SECRET_HEADER = b"x-telegram-bot-api-secret-token"


async def telegram_webhook(request: Request) -> Response:
    started = perf_counter()
    try:
        status, outcome, callback_query_id = await _telegram(request)
    finally:
        WEBHOOK_LATENCY.observe(perf_counter() - started, channel=telegram.CHANNEL)
    webhook.count(telegram.CHANNEL, outcome)
    if status == 200 and callback_query_id is not None:
        stats.outcome(telegram.CHANNEL, "answered_in_webhook")
        return Response(answer_callback_query(callback_query_id), media_type="application/json")
    if status == 503:
        return webhook.unavailable()
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
    given = (webhook.header(request, SECRET_HEADER) or "").encode("latin-1")
    if not hmac.compare_digest(given, expected):
        log.warning("telegram webhook with a wrong secret token refused")
        return 403, "rejected", None
    try:
        data = telegram.load_update(await webhook.read_body(request))
    except webhook.BodyTooLarge:
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
        outcome = await webhook.record(request, telegram.CHANNEL, inbound)
    except IntakeUnavailable:
        return 503, "rejected", None  # not answered: Telegram redelivers the press
    return 200, outcome, answer


# A plain Starlette route: the endpoint takes only the request, so FastAPI's dependency
# solving (a good share of a webhook's cost) is skipped.
router.add_route(PATH, telegram_webhook, methods=["POST"], include_in_schema=False)
