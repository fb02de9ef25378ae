"""Helpers shared by the page modules."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from fastapi.responses import RedirectResponse

from bot.dashboard.web import Page
from bot.http.security_headers import SECURITY_HEADERS

#: A row id in the URL: out-of-range numbers are refused (422) before any query.
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def flash_text(page: Page, key: str | None) -> str | None:
    """A message named in ``?msg=`` (only known keys: nothing from the URL is echoed)."""
    if not key:
        return None
    name = f"flash.{key}"
    return page.t(name) if name in page.t.texts else None


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers=SECURITY_HEADERS)
