"""Read request parameters from the query string and a JSON, urlencoded or multipart body."""

from __future__ import annotations

import json
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request


async def read_pairs(request: Request) -> tuple[list[tuple[str, Any]], str]:
    """Return ``(name, value)`` pairs in arrival order and the body's media type.

    Query parameters come first. JSON bodies give JSON values; form bodies give strings;
    uploaded files become ``{"filename", "content_type", "size"}`` dicts.
    """
    pairs: list[tuple[str, Any]] = list(request.query_params.multi_items())
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == "application/json":
        body = await request.body()
        if body:
            decoded = json.loads(body)
            if not isinstance(decoded, dict):
                raise ValueError("JSON body must be an object")
            pairs.extend(decoded.items())
    elif media_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        async with request.form() as form:
            for name, value in form.multi_items():
                if isinstance(value, UploadFile):
                    content = await value.read()
                    pairs.append(
                        (
                            name,
                            {
                                "filename": value.filename,
                                "content_type": value.content_type,
                                "size": len(content),
                            },
                        )
                    )
                else:
                    pairs.append((name, value))
    return pairs, media_type
