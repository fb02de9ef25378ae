"""POST /webhooks/whatsapp (Twilio) through the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.channels.whatsapp.webhook import EMPTY_TWIML
from bot.db.engine import make_engine
from bot.db.models import Conversation
from bot.observability import DUPLICATES_DROPPED, MESSAGES_IN
from tests.web.webhooks_support import (
    PUBLIC_BASE_URL,
    TWILIO_TOKEN,
    Running,
    inbound_rows,
    make_settings,
    outbound_rows,
    post_twilio,
    running_app,
    twilio_form,
)

PHONE = "whatsapp:+51987654321"


@pytest.fixture
async def running(db: Engine, database_url: str) -> Any:
    async with running_app(make_settings(database_url), db) as app:
        yield app


def assert_empty_twiml(response: Any) -> None:
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text == EMPTY_TWIML


async def test_a_signed_message_is_recorded_and_answered_with_empty_twiml(
    running: Running, db: Engine
) -> None:
    accepted = MESSAGES_IN.value(channel="whatsapp", outcome="accepted")
    form = twilio_form(PHONE, "hola")
    assert_empty_twiml(await post_twilio(running.client, form))
    [row] = inbound_rows(db)
    assert (row.channel, row.provider_message_id, row.text, row.kind) == (
        "whatsapp",
        form["MessageSid"],
        "hola",
        "text",
    )
    assert running.runtime.cipher.decrypt(row.sender_enc or "") == PHONE
    assert MESSAGES_IN.value(channel="whatsapp", outcome="accepted") == accepted + 1
    await asyncio.to_thread(running.runtime.conversations.process_pending)
    replies = outbound_rows(db, "reply")
    assert replies and {r.channel for r in replies} == {"whatsapp"}


async def test_the_query_string_is_part_of_the_signed_url(running: Running, db: Engine) -> None:
    form = twilio_form(PHONE, "hola")
    assert_empty_twiml(await post_twilio(running.client, form, query="tenant=pe&x=%20y"))
    assert len(inbound_rows(db)) == 1


@pytest.mark.parametrize(
    "forgery",
    ["wrong_token", "host_header_url", "tampered_body", "extra_field", "no_signature", "garbage"],
)
async def test_forged_signatures_are_refused(running: Running, db: Engine, forgery: str) -> None:
    rejected = MESSAGES_IN.value(channel="whatsapp", outcome="rejected")
    form = twilio_form(PHONE, "hola")
    kwargs: dict[str, Any] = {}
    if forgery == "wrong_token":
        kwargs["token"] = "another-token"
    elif forgery == "host_header_url":  # what a proxy-unaware app would check
        kwargs["signed_url"] = "http://testserver/webhooks/whatsapp"
    elif forgery == "no_signature":
        kwargs["signature"] = ""
    elif forgery == "garbage":
        kwargs["signature"] = "AAAA"
    if forgery in ("tampered_body", "extra_field"):
        from tests.fakes.twilio_signing import sign_twilio_request

        kwargs["signature"] = sign_twilio_request(
            TWILIO_TOKEN, f"{PUBLIC_BASE_URL}/webhooks/whatsapp", form
        )
        form = {**form, "Body": "3"} if forgery == "tampered_body" else {**form, "Extra": "1"}
    response = await post_twilio(running.client, form, **kwargs)
    assert response.status_code == 403
    assert inbound_rows(db) == []
    assert MESSAGES_IN.value(channel="whatsapp", outcome="rejected") == rejected + 1


async def test_a_url_with_retry_overrides_is_accepted_signed_either_way(
    db: Engine, database_url: str
) -> None:
    """The webhook URL configured in Twilio may end with connection overrides (``#rc=3&rp=5xx``,
    so that a 503 is retried); the signature is accepted over the URL with or without them."""
    overrides = "rc=3&rp=ct,rt,5xx"
    url = f"{PUBLIC_BASE_URL}/webhooks/whatsapp"
    settings = make_settings(database_url, twilio_webhook_overrides="#" + overrides)
    assert settings.twilio_webhook_overrides == overrides
    async with running_app(settings, db) as running:
        with_fragment = twilio_form(PHONE, "hola")
        response = await post_twilio(running.client, with_fragment, signed_url=f"{url}#{overrides}")
        assert_empty_twiml(response)
        assert_empty_twiml(await post_twilio(running.client, twilio_form(PHONE, "1")))
        other = await post_twilio(
            running.client, twilio_form(PHONE, "2"), signed_url=f"{url}#rc=5&rp=all"
        )
        assert other.status_code == 403  # only the configured overrides
    assert [r.text for r in inbound_rows(db)] == ["hola", "1"]


async def test_without_configured_overrides_a_signature_over_them_is_refused(
    running: Running, db: Engine
) -> None:
    url = f"{PUBLIC_BASE_URL}/webhooks/whatsapp#rc=3&rp=5xx"
    response = await post_twilio(running.client, twilio_form(PHONE, "hola"), signed_url=url)
    assert response.status_code == 403 and inbound_rows(db) == []


async def test_repeated_fields_are_all_signed(running: Running, db: Engine) -> None:
    pairs = [*twilio_form(PHONE, "").items(), ("MediaUrl0", "b"), ("MediaUrl0", "a")]
    pairs = [(k, "1" if k == "NumMedia" else v) for k, v in pairs]
    assert_empty_twiml(await post_twilio(running.client, pairs))
    [row] = inbound_rows(db)
    assert row.kind == "unsupported" and row.text is None


async def test_without_an_auth_token_the_webhook_is_unavailable(
    db: Engine, database_url: str
) -> None:
    settings = make_settings(database_url, twilio_auth_token=None)
    async with running_app(settings, db) as running:
        response = await post_twilio(running.client, twilio_form(PHONE, "hola"))
        assert response.status_code == 503
    assert inbound_rows(db) == []


async def test_button_replies_carry_their_payload(running: Running, db: Engine) -> None:
    form = twilio_form(PHONE, "Sí", ButtonPayload="consent:yes", ButtonText="Sí")
    assert_empty_twiml(await post_twilio(running.client, form))
    [row] = inbound_rows(db)
    assert (row.payload, row.text) == ("consent:yes", "Sí")


async def test_media_without_text_is_unsupported(running: Running, db: Engine) -> None:
    form = twilio_form(PHONE, "", NumMedia="1", MediaContentType0="audio/ogg")
    assert_empty_twiml(await post_twilio(running.client, form))
    assert [r.kind for r in inbound_rows(db)] == ["unsupported"]


@pytest.mark.parametrize(
    "fields",
    [{"MessageStatus": "delivered"}, {"From": "+51987654321"}, {"MessageSid": ""}],
    ids=["status-callback", "sms", "no-sid"],
)
async def test_signed_requests_we_cannot_use_are_ignored_with_200(
    running: Running, db: Engine, fields: dict[str, str]
) -> None:
    form = {**twilio_form(PHONE, "hola"), **fields}
    if "MessageSid" in fields:
        form["SmsMessageSid"] = ""
    assert_empty_twiml(await post_twilio(running.client, form))
    assert inbound_rows(db) == []


async def test_sequential_redeliveries_are_processed_once(running: Running, db: Engine) -> None:
    dropped = DUPLICATES_DROPPED.value(channel="whatsapp")
    form = twilio_form(PHONE, "hola")
    assert_empty_twiml(await post_twilio(running.client, form))
    steps = await asyncio.to_thread(running.runtime.conversations.process_pending)
    replies = len(outbound_rows(db))
    for _ in range(2):
        assert_empty_twiml(await post_twilio(running.client, form))
    again = await asyncio.to_thread(running.runtime.conversations.process_pending)
    assert (len(steps), len(again)) == (1, 0)
    assert len(outbound_rows(db)) == replies and len(inbound_rows(db)) == 1
    assert DUPLICATES_DROPPED.value(channel="whatsapp") == dropped + 2


async def test_concurrent_redeliveries_to_two_servers_make_one_step(
    db: Engine, database_url: str
) -> None:
    settings = make_settings(database_url)
    other_db = make_engine(database_url)
    form = twilio_form(PHONE, "hola")
    try:
        async with running_app(settings, db) as one, running_app(settings, other_db) as two:
            responses = await asyncio.gather(
                *(post_twilio((one, two)[i % 2].client, form) for i in range(20))
            )
            for response in responses:
                assert_empty_twiml(response)
            outcomes = await asyncio.gather(
                asyncio.to_thread(one.runtime.conversations.process_pending),
                asyncio.to_thread(two.runtime.conversations.process_pending),
            )
    finally:
        other_db.dispose()
    assert sum(len(o) for o in outcomes) == 1
    assert len(inbound_rows(db)) == 1
    with Session(db) as session:
        assert session.exec(select(Conversation)).one().version == 1


async def test_many_people_at_once_each_get_their_steps(running: Running, db: Engine) -> None:
    people = [f"whatsapp:+5190000{n:04d}" for n in range(10)]
    sends = [post_twilio(running.client, twilio_form(p, "hola")) for p in people]
    sends += [post_twilio(running.client, twilio_form(p, "1")) for p in people]
    for response in await asyncio.gather(*sends):
        assert_empty_twiml(response)
    await asyncio.to_thread(running.runtime.conversations.process_pending)
    rows = inbound_rows(db)
    assert len(rows) == 20 and {r.status for r in rows} == {"done"}
    with Session(db) as session:
        assert {c.version for c in session.exec(select(Conversation))} == {2}
