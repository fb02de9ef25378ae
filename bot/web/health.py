"""Liveness and readiness."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from bot.db.engine import read_only
from bot.web.deps import RuntimeDep

router = APIRouter()

#: A background loop that has not ticked for this long is reported stalled.
LOOP_STALE_AFTER = 60.0


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def _ping(db: Engine) -> None:
    with read_only(db) as connection:
        connection.execute(text("SELECT 1"))


@router.get("/readyz")
async def readyz(runtime: RuntimeDep, request: Request) -> JSONResponse:
    """Ready when the database answers within ``REQUEST_TIMEOUT`` and every loop ticks;
    otherwise 503 saying which (``database``: ``unreachable`` or ``timeout``)."""
    loops = loop_status(request)
    try:
        await asyncio.wait_for(
            asyncio.to_thread(_ping, runtime.db), runtime.settings.request_timeout
        )
    except SQLAlchemyError:
        body = {"status": "unavailable", "database": "unreachable", "loops": loops}
        return JSONResponse(body, status_code=503)
    except TimeoutError:
        body = {"status": "unavailable", "database": "timeout", "loops": loops}
        return JSONResponse(body, status_code=503)
    ok = all(state in ("ok", "external") for state in loops.values())
    body = {"status": "ok" if ok else "unavailable", "database": "ok", "loops": loops}
    return JSONResponse(body, status_code=200 if ok else 503)


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
