"""What the platforms' webhooks share: the body limit, recording into the intake, 503 on a
dead database. The routes are each platform's (``bot.channels.telegram.webhook``,
``bot.channels.whatsapp.webhook``, ``bot.channels.twilio.status``).

Each webhook answers only after its message is committed to the inbox (or recognised as a
redelivery); the conversation step runs afterwards in the inbox loop, and the replies go out
through the outbox. Anything authentic that we cannot use is answered 2xx and ignored, so the
platforms never redeliver a poison message forever; a forged request gets 403, a body that is
not an update 400, and a database outage 503 (the platform retries). Nothing personal (chat
ids, phone numbers, message text) is logged.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import Request
from fastapi.responses import Response

from bot.channels.intake import Intake, IntakeUnavailable
from bot.flows.types import Inbound
from bot.loops import Workers
from bot.observability import DUPLICATES_DROPPED, MESSAGES_IN
from bot.runtime import Runtime
from bot.worker import CRISIS_LANE

log = logging.getLogger(__name__)

#: Larger bodies are refused (413): real updates and Twilio forms are a few kB.
MAX_BODY_BYTES = 256 * 1024
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


def count(channel: str, outcome: str) -> None:
    """Count an inbound request by its outcome (accepted, duplicate, ignored, rejected)."""
    MESSAGES_IN.inc(channel=channel, outcome=outcome)


def unavailable() -> Response:
    """503 (the store cannot answer, or the service is not configured): the platform
    retries after ``Retry-After``."""
    return Response(status_code=503, headers={"Retry-After": RETRY_AFTER})


async def record(request: Request, channel: str, inbound: Inbound) -> str:
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
