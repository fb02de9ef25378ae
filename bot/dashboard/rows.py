"""Rendering a list row by row, so that one row's bad data never takes the page down.

A row that fails to render (data nobody foresaw: a naive timestamp, a snapshot of the wrong
shape…) is logged with its case id (never its content) and replaced by a row that says so;
the other rows, and the page, render as usual.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from jinja2 import TemplateError
from markupsafe import Markup

from bot.dashboard.web import Page, dashboard

log = logging.getLogger(__name__)

#: What a template can raise on data it did not expect (a template bug is a TemplateError).
ROW_ERRORS = (TemplateError, KeyError, IndexError, TypeError, ValueError, AttributeError)


def render_each(
    page: Page, template: str, error_template: str, rows: Iterable[Any], **context: Any
) -> list[Markup]:
    """Each row rendered by ``template`` (as ``row``); a failing one by ``error_template``."""
    env = dashboard(page.request).env
    good, bad = env.get_template(template), env.get_template(error_template)
    out: list[Markup] = []
    for row in rows:
        try:
            html = good.render(page=page, t=page.t, row=row, **context)
        except ROW_ERRORS as exc:
            row_id = getattr(row, "id", None)
            log.error(
                "a row could not be shown",
                extra={"template": template, "row": row_id, "error": type(exc).__name__},
            )
            html = bad.render(page=page, t=page.t, row_id=row_id, error=type(exc).__name__)
        out.append(Markup(html))
    return out
