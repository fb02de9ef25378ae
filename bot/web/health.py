"""Liveness and readiness.

Ready means: the database answers, this process's loops tick, and a new case can reach a
psychologist (``bot.escalation.paging``: a valid roster, someone reachable for every
priority, no open case whose alerts all failed). Without any alert channel configured
outside production (``make run``) paging is ``off``: reported, but still ready.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot.db.engine import read_only
from bot.escalation import paging
from bot.runtime import Runtime
from bot.web.deps import RuntimeDep

router = APIRouter()

#: A background loop that has not ticked for this long is reported stalled.
LOOP_STALE_AFTER = 60.0


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def _check(runtime: Runtime) -> list[paging.Problem]:
    """The database answers (raises SQLAlchemyError if not); then what stands in paging's way
    (``bot.escalation.paging``: one roster walk and one query)."""
    with read_only(runtime.db) as connection:
        connection.execute(text("SELECT 1"))
    return paging.problems(runtime.escalation, strict=runtime.settings.environment == "production")


@router.get("/readyz")
async def readyz(runtime: RuntimeDep, request: Request) -> JSONResponse:
    """Ready when the database answers within ``REQUEST_TIMEOUT``, every loop ticks and a new
    case can reach a psychologist; otherwise 503 saying which (``database``: ``unreachable``
    or ``timeout``)."""
    loops = loop_status(request)
    try:
        found = await asyncio.wait_for(
            asyncio.to_thread(_check, runtime), runtime.settings.request_timeout
        )
    except SQLAlchemyError:
        body = {"status": "unavailable", "database": "unreachable", "loops": loops}
        return JSONResponse(body, status_code=503)
    except TimeoutError:
        body = {"status": "unavailable", "database": "timeout", "loops": loops}
        return JSONResponse(body, status_code=503)
    loops_ok = all(state in ("ok", "external") for state in loops.values())
    alarm = any(p.alarm for p in found)
    ok = loops_ok and not alarm
    body = {
        "status": "ok" if ok else "unavailable",
        "database": "ok",
        "loops": loops,
        "paging": {
            "status": "alarm" if alarm else "off" if _off(found) else "ok",
            "problems": [p.describe() for p in found],
        },
    }
    return JSONResponse(body, status_code=200 if ok else 503)


def _off(found: list[paging.Problem]) -> bool:
    return any(p.kind == "alerts_off" for p in found)


def loop_status(request: Request) -> dict[str, str]:
    """Each background loop of this process: ``ok`` (ticked lately), ``stalled``, or
    ``external`` when the loops run in ``python -m bot worker`` processes instead."""
    workers = getattr(request.app.state, "workers", None)
    if workers is None:
        return {}
    runtime = request.app.state.runtime
    if not runtime.settings.run_workers_in_server:
        return dict.fromkeys(workers.loops, "external")
    return {
        name: "ok" if workers.alive(name, LOOP_STALE_AFTER) else "stalled" for name in workers.loops
    }
