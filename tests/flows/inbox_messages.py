"""Inbound messages for the inbox tests (the recorder here, the webhooks' intake in
tests/channels), and reading back what was recorded."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.db.models import InboundMessage
from bot.flows.types import Inbound

SECRET = "intake-test-secret-0123456789abcdef01234"
NOW = datetime(2026, 11, 22, 12, 30, 15, 123456, tzinfo=UTC)
_ids = itertools.count(1)


def no_crisis(_text: str) -> None:
    """These tests are not about crisis words (``tests/escalation/test_fastlane.py`` is)."""
    return None


def inbound(
    who: str = "4242",
    text: str = "hola",
    *,
    channel: str = "telegram",
    mid: str | None = None,
    payload: str | None = None,
    kind: Any = "text",
) -> Inbound:
    return Inbound(
        channel=channel,
        external_id=who,
        provider_message_id=mid or f"m{next(_ids)}",
        received_at=NOW,
        text=text,
        payload=payload,
        kind=kind,
    )


def rows(db: Engine) -> list[InboundMessage]:
    with Session(db) as session:
        return list(session.exec(select(InboundMessage).order_by(InboundMessage.id)))  # type: ignore[arg-type]
