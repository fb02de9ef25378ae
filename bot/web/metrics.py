"""``GET /metrics``: the process's metrics in the Prometheus text format.

Counters and histograms come from ``bot.observability.metrics``; the inbox and outbox depths
(messages still pending) are counted in the database at scrape time, and every background
loop of this process reports how long ago it last ticked.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import Engine, func
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from bot.db.engine import read_only
from bot.db.models import InboundMessage, OutboundMessage
from bot.observability import Family, Sample, metrics
from bot.web.deps import RuntimeDep

router = APIRouter()

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
CHANNELS = ("telegram", "whatsapp")


def depth_families(db: Engine) -> list[Family]:
    """Pending inbound (inbox) and outbound (outbox) messages per channel, and whether the
    database answered."""
    try:
        with read_only(db) as connection, Session(bind=connection) as session:
            inbox = dict(
                session.exec(
                    select(InboundMessage.channel, func.count())
                    .where(InboundMessage.status == "pending")
                    .group_by(InboundMessage.channel)
                ).all()
            )
            outbox = dict(
                session.exec(
                    select(OutboundMessage.channel, func.count())
                    .where(OutboundMessage.status == "pending")
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


@router.get("/metrics", include_in_schema=False)
def metrics_endpoint(request: Request, runtime: RuntimeDep) -> Response:
    body = metrics.render([*depth_families(runtime.db), loop_family(request)])
    return Response(body, media_type=CONTENT_TYPE)
