"""``GET /metrics``: the process's metrics in the Prometheus text format.

Counters and histograms come from ``bot.observability.metrics``; the inbox and outbox depths
(messages still pending) are counted in the database at scrape time, and every background
loop of this process reports how long ago it last ticked.

Who may read it: with ``METRICS_TOKEN`` set, a request carrying ``Authorization: Bearer
<token>``; with ``METRICS_ALLOWED_ADDRESSES`` set, a direct connection from one of those
addresses or networks (the peer address: behind a proxy, use the token). With neither set it
is open outside production and closed (403) in production.
"""

from __future__ import annotations

import hmac
import ipaddress
import time

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import Engine, func
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from bot.db.engine import read_only
from bot.db.models import InboundMessage, InboxStatus, OutboundMessage
from bot.escalation import paging
from bot.escalation.models import PRIORITIES
from bot.observability import Family, Sample, metrics
from bot.outbox.enums import Channel, OutboxStatus
from bot.runtime import Runtime
from bot.settings import Settings
from bot.web.deps import RuntimeDep

router = APIRouter()

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
CHANNELS = (Channel.TELEGRAM, Channel.WHATSAPP)


def depth_families(db: Engine) -> list[Family]:
    """Pending inbound (inbox) and outbound (outbox) messages per channel, and whether the
    database answered."""
    try:
        with read_only(db) as connection, Session(bind=connection) as session:
            inbox = dict(
                session.exec(
                    select(InboundMessage.channel, func.count())
                    .where(InboundMessage.status == InboxStatus.PENDING)
                    .group_by(InboundMessage.channel)
                ).all()
            )
            outbox = dict(
                session.exec(
                    select(OutboundMessage.channel, func.count())
                    .where(OutboundMessage.status == OutboxStatus.PENDING)
                    .group_by(OutboundMessage.channel)
                ).all()
            )
    except SQLAlchemyError:
        return [_database_up(False)]
    return [
        _database_up(True),
        _per_channel("bot_inbox_depth", "Inbound messages waiting for their step.", inbox),
        _per_channel("bot_outbox_depth", "Outbound messages waiting to be sent.", outbox),
    ]


def _database_up(up: bool) -> Family:
    sample = Sample("bot_database_up", (), 1 if up else 0)
    return Family("bot_database_up", "gauge", "1 if the database answered the scrape.", (sample,))


def _per_channel(name: str, help: str, counts: dict[str, int]) -> Family:
    channels = sorted({*CHANNELS, *counts})
    return Family(
        name,
        "gauge",
        help,
        tuple(Sample(name, (("channel", c),), counts.get(c, 0)) for c in channels),
    )


def loop_family(request: Request) -> Family:
    workers = getattr(request.app.state, "workers", None)
    loops = workers.loops if workers is not None else {}
    now = time.time()
    samples = tuple(
        Sample(
            "bot_loop_last_tick_age_seconds",
            (("loop", name),),
            now - loop.last_tick_at if loop.last_tick_at is not None else float("inf"),
        )
        for name, loop in sorted(loops.items())
    )
    return Family(
        "bot_loop_last_tick_age_seconds",
        "gauge",
        "Seconds since each background loop of this process last ticked (+Inf: never).",
        samples,
    )


def _address_allowed(request: Request, settings: Settings) -> bool:
    networks = settings.metrics_networks
    if not networks or request.client is None:
        return False
    try:
        address = ipaddress.ip_address(request.client.host)
    except ValueError:
        return False
    return any(address in network for network in networks)


def _token_given(request: Request, settings: Settings) -> bool:
    token = settings.metrics_token
    if token is None:
        return False
    given = request.headers.get("authorization", "").encode("latin-1", "replace")
    return hmac.compare_digest(given, f"Bearer {token.get_secret_value()}".encode())


def refusal(request: Request, settings: Settings) -> Response | None:
    """The response that refuses this scrape, or None if it may read the metrics."""
    if _token_given(request, settings) or _address_allowed(request, settings):
        return None
    if settings.metrics_token is None and not settings.metrics_networks:
        if settings.environment != "production":
            return None
        return Response("metrics are closed in production: set METRICS_TOKEN", status_code=403)
    if settings.metrics_token is not None:
        return Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})
    return Response(status_code=403)


def paging_families(runtime: Runtime) -> list[Family]:
    """Whether a new case can reach a psychologist now (see ``bot.escalation.paging``)."""
    found = paging.problems(runtime.escalation, strict=runtime.settings.environment == "production")
    unreachable = {p.priority for p in found if p.kind == "nobody_reachable"}
    no_roster = any(p.kind == "no_roster" for p in found)
    failed = sum(len(p.cases) for p in found if p.kind == "alerts_failed")
    return [
        Family(
            "bot_paging_alarm",
            "gauge",
            "1 while a new case could not reach any psychologist (see /readyz for why).",
            (Sample("bot_paging_alarm", (), 1 if any(p.alarm for p in found) else 0),),
        ),
        Family(
            "bot_oncall_nobody_reachable",
            "gauge",
            "1 when nobody the priority's chain would page now has a usable contact.",
            tuple(
                Sample(
                    "bot_oncall_nobody_reachable",
                    (("priority", p),),
                    1 if no_roster or p in unreachable else 0,
                )
                for p in PRIORITIES
            ),
        ),
        Family(
            "bot_escalation_cases_alerts_failed",
            "gauge",
            "Open, unacknowledged cases whose alerts failed on every channel.",
            (Sample("bot_escalation_cases_alerts_failed", (), failed),),
        ),
    ]


@router.get("/metrics", include_in_schema=False)
def metrics_endpoint(request: Request, runtime: RuntimeDep) -> Response:
    refused = refusal(request, runtime.settings)
    if refused is not None:
        return refused
    families = [*depth_families(runtime.db), loop_family(request), *paging_families(runtime)]
    body = metrics.render(families)
    return Response(body, media_type=CONTENT_TYPE)
