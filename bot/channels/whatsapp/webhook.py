"""``POST /webhooks/whatsapp`` (Twilio): check the signature, parse the form, record its message
(:mod:`bot.channels.webhook`); answered with empty TwiML."""

from __future__ import annotations

import logging
from time import perf_counter

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bot.channels import webhook
from bot.channels.intake import IntakeUnavailable
from bot.channels.twilio.form import parse_form
from bot.channels.twilio.signature import twilio_signed
from bot.channels.whatsapp import inbound as whatsapp
from bot.db.models import utcnow
from bot.observability import WEBHOOK_LATENCY
from bot.runtime import Runtime

log = logging.getLogger(__name__)
router = APIRouter()

PATH = "/webhooks/whatsapp"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def _twiml(status: int = 200) -> Response:
    return Response(EMPTY_TWIML, status_code=status, media_type="text/xml")


async def whatsapp_webhook(request: Request) -> Response:
    started = perf_counter()
    try:
        status, outcome = await _whatsapp(request)
    finally:
        WEBHOOK_LATENCY.observe(perf_counter() - started, channel=whatsapp.CHANNEL)
    webhook.count(whatsapp.CHANNEL, outcome)
    if status == 200:
        return _twiml()
    if status == 503:
        return webhook.unavailable()
    return Response(status_code=status)


async def _whatsapp(request: Request) -> tuple[int, str]:
    runtime: Runtime = request.app.state.runtime
    settings = runtime.settings
    if settings.twilio_auth_token is None:
        log.warning("whatsapp webhook called but TWILIO_AUTH_TOKEN is not set")
        return 503, "rejected"
    try:
        params = parse_form(await webhook.read_body(request))
    except webhook.BodyTooLarge:
        return 413, "rejected"
    if not twilio_signed(request, PATH, params, fragment=settings.twilio_webhook_overrides):
        log.warning("whatsapp webhook with a bad X-Twilio-Signature refused")
        return 403, "rejected"
    parsed = whatsapp.parse_message(params, received_at=utcnow())
    if parsed.inbound is None:
        return 200, "ignored"
    try:
        outcome = await webhook.record(request, whatsapp.CHANNEL, parsed.inbound)
    except IntakeUnavailable:
        return 503, "rejected"
    return 200, outcome


# A plain Starlette route: the endpoint takes only the request, so FastAPI's dependency
# solving (a good share of a webhook's cost) is skipped.
router.add_route(PATH, whatsapp_webhook, methods=["POST"], include_in_schema=False)
