"""A case's audit log in words: each event's details as the reader's language says them.

Only the details a reader needs are shown (who was alerted, on which channel, at which
step, why it failed, the outcome and note…); internal row ids are left out, and a detail of
an unexpected shape is skipped rather than shown raw or allowed to fail the page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.dashboard.web import Page
from bot.flows.types import MEDIA_KINDS

MAX_SUMMARY = 300


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str
    actor: str | None
    summary: str


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def summary(page: Page, detail: object, name: Callable[[str], str]) -> str:
    """``detail`` (a stored mapping) in words; ``name`` turns a roster id into a name."""
    if not isinstance(detail, dict):
        return ""
    t = page.t
    parts: list[str] = []
    psychologist = _text(detail.get("psychologist"))
    if psychologist:
        parts.append(name(psychologist))
    notify = detail.get("notify")
    if isinstance(notify, list) and notify:
        parts.append(", ".join(name(str(p)) for p in notify[:10]))
    channel = _text(detail.get("channel"))
    if channel:
        parts.append(page.label("channel", channel))
    for key in ("priority", "to"):
        priority = _text(detail.get(key))
        if priority:
            parts.append(page.label("priority", priority))
    step = detail.get("step")
    if isinstance(step, int) and not isinstance(step, bool) and step >= 0:
        parts.append(t("history.step", n=step + 1))
    reason = _text(detail.get("reason"))
    if reason:
        parts.append(page.label("history.why", reason))
    outcome = _text(detail.get("outcome"))
    if outcome:
        parts.append(page.label("outcome", outcome))
    late = detail.get("late_seconds")
    if isinstance(late, int) and not isinstance(late, bool):
        parts.append(t("history.late", n=late))
    media = _text(detail.get("media"))
    if media in MEDIA_KINDS:
        parts.append("📎 " + page.label("media", media))
    note = _text(detail.get("note"))
    if note:
        parts.append(f"«{note}»")
    return " · ".join(parts)[:MAX_SUMMARY]
