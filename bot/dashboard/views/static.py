"""The dashboard's stylesheet and script (two small files, no build)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from bot.dashboard.web import STATIC

router = APIRouter()
FILES = {
    "dashboard.css": "text/css; charset=utf-8",
    "dashboard.js": "text/javascript; charset=utf-8",
}


@router.get("/static/{name}")
def static_file(name: str) -> Response:
    media_type = FILES.get(name)
    if media_type is None:
        raise HTTPException(status_code=404)
    body = (STATIC / name).read_bytes()
    return Response(
        body,
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )
