"""``POST /webhooks/twilio/status``: Twilio's status callbacks for the WhatsApp and SMS
messages we sent (``bot.channels.twilio.receipts``).

Signed like the WhatsApp webhook (``X-Twilio-Signature`` over ``PUBLIC_BASE_URL`` + path).
Answered 204 once applied or kept, also when there is nothing to change, so Twilio never
retries a receipt we cannot use; 503 with ``Retry-After`` if the database is down or does
not answer within ``REQUEST_TIMEOUT``. The callback's ``To`` and
``From`` are never read or logged.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.exc import SQLAlchemyError

from bot.channels.twilio import receipts
from bot.channels.twilio.form import parse_form
from bot.channels.twilio.signature import twilio_signed
from bot.channels.webhook import BodyTooLarge, read_body, unavailable
from bot.db.models import utcnow
from bot.loops import Workers
from bot.runtime import Runtime

log = logging.getLogger(__name__)
router = APIRouter()

PATH = receipts.STATUS_CALLBACK_PATH
#: Outcomes after which the escalation loop looks at once for an alert to send elsewhere.
_FAILURES = frozenset({"failed", "held", "opted_out", "unreachable"})


async def twilio_status(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    settings = runtime.settings
    if settings.twilio_auth_token is None:
        log.warning("twilio status callback but TWILIO_AUTH_TOKEN is not set")
        return Response(status_code=503)
    try:
        params = parse_form(await read_body(request))
    except BodyTooLarge:
        return Response(status_code=413)
    if not twilio_signed(request, PATH, params):
        log.warning("twilio status callback with a bad X-Twilio-Signature refused")
        return Response(status_code=403)
    receipt = receipts.parse({name: params.first(name) for name in receipts.FIELDS})
    if receipt is None:
        receipts.RECEIPTS.inc(outcome="ignored")
        return Response(status_code=204)
    try:
        outcome = await asyncio.wait_for(
            asyncio.to_thread(receipts.record, runtime.db, receipt, utcnow()),
            settings.request_timeout,
        )
    except (SQLAlchemyError, TimeoutError) as err:
        # Only the error's class: a database error's text holds the statement's parameters.
        log.error("twilio status callback not recorded", extra={"error": type(err).__name__})
        return unavailable()
    if outcome in _FAILURES:
        log.info("message undelivered after sending", extra={"outcome": outcome})
        workers: Workers | None = getattr(request.app.state, "workers", None)
        if workers is not None:
            workers.wake("escalation")
    return Response(status_code=204)


router.add_route(PATH, twilio_status, methods=["POST"], include_in_schema=False)
