"""POST /webhooks/twilio/status (Twilio's status callbacks) through the real app."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from bot.channels.twilio import receipts
from bot.db.models import OutboundMessage, utcnow
from tests.web.webhooks_support import (
    PUBLIC_BASE_URL,
    WHATSAPP_URL,
    Running,
    make_settings,
    post_twilio,
    running_app,
)

PATH = "/webhooks/twilio/status"
URL = PUBLIC_BASE_URL + PATH
SID = "SM" + "cd" * 16


@pytest.fixture
async def running(db: Engine, database_url: str) -> Any:
    async with running_app(make_settings(database_url), db) as app:
        yield app


def sent_alert(db: Engine) -> int:
    """An alert to staff that Twilio accepted (no person: nothing personal needed)."""
    with Session(db) as session:
        message = OutboundMessage(
            channel="whatsapp",
            recipient_hash="h" * 64,
            purpose="alert",
            text="Caso #1",
            status="sent",
            provider_message_id=SID,
            sent_at=utcnow(),
            next_attempt_at=utcnow(),
        )
        session.add(message)
        session.commit()
        assert message.id is not None
        return message.id


def status_of(db: Engine, row_id: int) -> tuple[str, str | None]:
    with Session(db) as session:
        found = session.get(OutboundMessage, row_id)
        assert found is not None
        return found.status, found.error


def callback(status: str, **extra: str) -> dict[str, str]:
    """The fields Twilio posts (``To``/``From`` included, though never read)."""
    return {
        "AccountSid": "AC" + "0" * 32,
        "ApiVersion": "2010-04-01",
        "From": "whatsapp:+14155238886",
        "To": "whatsapp:+51987654321",
        "MessageSid": SID,
        "MessageStatus": status,
        "SmsSid": SID,
        "SmsStatus": status,
        **extra,
    }


async def post(running: Running, form: dict[str, str], **kwargs: Any) -> Any:
    kwargs.setdefault("signed_url", URL)
    return await post_twilio(running.client, form, path=PATH, **kwargs)


async def test_a_signed_receipt_is_applied(running: Running, db: Engine) -> None:
    rid = sent_alert(db)
    response = await post(running, callback("delivered"))
    assert response.status_code == 204
    assert status_of(db, rid) == ("delivered", None)


async def test_an_undelivered_alert_is_failed(running: Running, db: Engine) -> None:
    rid = sent_alert(db)
    response = await post(running, callback("undelivered", ErrorCode="63016"))
    assert response.status_code == 204
    assert status_of(db, rid) == ("failed", "twilio.63016")


@pytest.mark.parametrize("forgery", ["wrong_token", "other_path", "no_signature"])
async def test_forged_receipts_are_refused(running: Running, db: Engine, forgery: str) -> None:
    rid = sent_alert(db)
    kwargs: dict[str, Any] = {
        "wrong_token": {"token": "not-the-token"},
        "other_path": {"signed_url": WHATSAPP_URL},  # a signature made for another URL
        "no_signature": {"signature": ""},
    }[forgery]
    response = await post(running, callback("undelivered", ErrorCode="30008"), **kwargs)
    assert response.status_code == 403
    assert status_of(db, rid) == ("sent", None)


async def test_receipts_we_cannot_use_are_answered_204(running: Running, db: Engine) -> None:
    """So that Twilio does not retry them."""
    rid = sent_alert(db)
    ignored = receipts.RECEIPTS.value(outcome="ignored")
    assert (await post(running, {"MessageStatus": "delivered"})).status_code == 204
    assert (await post(running, callback("sending"))).status_code == 204
    assert status_of(db, rid) == ("sent", None)
    assert receipts.RECEIPTS.value(outcome="ignored") == ignored + 2


async def test_without_an_auth_token_receipts_are_unavailable(
    db: Engine, database_url: str
) -> None:
    rid = sent_alert(db)
    settings = make_settings(database_url, twilio_auth_token=None)
    async with running_app(settings, db) as running:
        response = await post(running, callback("delivered"))
    assert response.status_code == 503
    assert status_of(db, rid) == ("sent", None)
