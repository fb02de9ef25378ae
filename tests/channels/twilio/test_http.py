"""The real twilio SDK (its ``*_async`` methods), through AsyncBaseUrlHttpClient, against the
fake Twilio REST API."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from bot.channels.twilio.http import (
    AsyncBaseUrlHttpClient,
    TwilioTransportError,
    make_async_twilio_client,
    rewrite_url,
)
from tests.fakes import fixtures
from tests.fakes.loopback import LoopbackGuard, NetworkBlockedError
from tests.fakes.twilio_api import FakeTwilioApi

TO = "whatsapp:+34600111222"
FROM = "whatsapp:+14155238886"

# Fixtures from tests.fakes.fixtures (assigned, so pytest registers them in this module).
loopback_only = fixtures.loopback_only
twilio_api = fixtures.twilio_api


@pytest.fixture
async def client(twilio_api: FakeTwilioApi) -> AsyncIterator[Client]:
    client = make_async_twilio_client(twilio_api.account_sid, twilio_api.auth_token, twilio_api.url)
    yield client
    assert isinstance(client.http_client, AsyncBaseUrlHttpClient)
    await client.http_client.close()


def test_rewrite_url_keeps_path_and_query() -> None:
    uri = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?PageSize=2"
    assert rewrite_url(uri, None) == uri
    assert (
        rewrite_url(uri, "http://127.0.0.1:9/")
        == "http://127.0.0.1:9/2010-04-01/Accounts/AC1/Messages.json?PageSize=2"
    )
    assert rewrite_url(uri, "http://h:1/tw").startswith("http://h:1/tw/2010-04-01/")
    with pytest.raises(ValueError):
        rewrite_url(uri, "127.0.0.1:9")


async def test_send_whatsapp_message(client: Client, twilio_api: FakeTwilioApi) -> None:
    message = await client.messages.create_async(
        to=TO, from_=FROM, body="Hola 👋", status_callback="https://bot.example/tw/status"
    )

    assert message.sid is not None
    assert message.sid.startswith("SM")
    assert len(message.sid) == 34
    assert message.status == "queued"
    assert message.to == TO
    assert message.date_created is not None
    call = await twilio_api.wait_for_async("messages.create")
    assert call.status == 201
    assert call.content_type == "application/x-www-form-urlencoded"
    assert call.params["To"] == TO
    assert call.params["From"] == FROM
    assert call.params["Body"] == "Hola 👋"
    assert call.params["StatusCallback"] == "https://bot.example/tw/status"
    assert call.headers["user-agent"].startswith("twilio-python/")
    assert (await client.messages(message.sid).fetch_async()).body == "Hola 👋"


async def test_template_and_repeated_media_fields(
    client: Client, twilio_api: FakeTwilioApi
) -> None:
    variables = json.dumps({"1": "Ana"})
    await client.messages.create_async(
        to=TO, from_=FROM, content_sid="HX" + "a" * 32, content_variables=variables
    )
    await client.messages.create_async(
        to=TO, from_=FROM, media_url=["https://x.example/a.png", "https://x.example/b.png"]
    )

    template, media = twilio_api.calls("messages.create")
    assert template.params["ContentSid"] == "HX" + "a" * 32
    assert json.loads(template.params["ContentVariables"]) == {"1": "Ana"}
    assert "Body" not in template.params
    assert media.params["MediaUrl"] == ["https://x.example/a.png", "https://x.example/b.png"]


async def test_bad_credentials_raise_401(twilio_api: FakeTwilioApi) -> None:
    client = make_async_twilio_client(twilio_api.account_sid, "wrong-token", twilio_api.url)
    with pytest.raises(TwilioRestException) as info:
        await client.messages.create_async(to=TO, from_=FROM, body="x")
    await client.http_client.close()  # type: ignore[attr-defined]

    assert info.value.status == 401
    assert info.value.code == 20003
    assert twilio_api.calls()[0].status == 401
    assert twilio_api.messages == {}


@pytest.mark.parametrize(("code", "status"), [(21610, 400), (63016, 400), (21211, 400)], ids=str)
async def test_twilio_error_codes_surface(
    client: Client,
    twilio_api: FakeTwilioApi,
    code: int,
    status: int,
) -> None:
    twilio_api.fail_next(code=code)
    with pytest.raises(TwilioRestException) as info:
        await client.messages.create_async(to=TO, from_=FROM, body="x")

    assert info.value.code == code
    assert info.value.status == status
    # The fault was used up: the next message goes through.
    assert (await client.messages.create_async(to=TO, from_=FROM, body="y")).status == "queued"


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_server_errors_surface_with_status(
    client: Client,
    twilio_api: FakeTwilioApi,
    status: int,
) -> None:
    twilio_api.fail_next(status, times=2)
    for _ in range(2):
        with pytest.raises(TwilioRestException) as info:
            await client.messages.create_async(to=TO, from_=FROM, body="x")
        assert info.value.status == status
    assert [c.status for c in twilio_api.calls()] == [status, status]


async def test_fault_for_one_recipient_only(client: Client, twilio_api: FakeTwilioApi) -> None:
    twilio_api.fail_next(code=21610, to=TO, times=None)
    other = "whatsapp:+34600999888"
    assert (await client.messages.create_async(to=other, from_=FROM, body="x")).status == "queued"
    for _ in range(2):
        with pytest.raises(TwilioRestException):
            await client.messages.create_async(to=TO, from_=FROM, body="x")


async def test_missing_body_is_rejected_like_twilio(client: Client) -> None:
    with pytest.raises(TwilioRestException) as info:
        await client.messages.create_async(to=TO, from_=FROM)
    assert info.value.code == 21619


async def test_timeout_becomes_transport_error(twilio_api: FakeTwilioApi) -> None:
    twilio_api.delay_next(1.0)
    client = make_async_twilio_client(
        twilio_api.account_sid, twilio_api.auth_token, twilio_api.url, timeout=0.2
    )
    with pytest.raises(TwilioTransportError):
        await client.messages.create_async(to=TO, from_=FROM, body="x")
    await client.http_client.close()  # type: ignore[attr-defined]
    # The fake still accepted it, as Twilio might have.
    assert len(twilio_api.messages) == 1


async def test_no_request_leaves_loopback(
    loopback_only: LoopbackGuard,
    twilio_api: FakeTwilioApi,
) -> None:
    faked = make_async_twilio_client(twilio_api.account_sid, twilio_api.auth_token, twilio_api.url)
    await faked.messages.create_async(to=TO, from_=FROM, body="x")
    await faked.http_client.close()  # type: ignore[attr-defined]
    assert loopback_only.attempts
    assert loopback_only.blocked == []

    # Without a base URL the client aims at api.twilio.com, which the guard refuses.
    real = make_async_twilio_client(twilio_api.account_sid, twilio_api.auth_token, None)
    with pytest.raises(TwilioTransportError) as info:
        await real.messages.create_async(to=TO, from_=FROM, body="x")
    await real.http_client.close()  # type: ignore[attr-defined]
    assert loopback_only.blocked == ["api.twilio.com"]
    assert any(isinstance(e, NetworkBlockedError) for e in _chain(info.value))


def _chain(err: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = err
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


async def test_async_client_sends(twilio_api: FakeTwilioApi) -> None:
    client = make_async_twilio_client(twilio_api.account_sid, twilio_api.auth_token, twilio_api.url)
    message = await client.messages.create_async(to=TO, from_=FROM, body="async")
    twilio_api.fail_next(code=21610)
    with pytest.raises(TwilioRestException) as info:
        await client.messages.create_async(to=TO, from_=FROM, body="again")
    await client.http_client.close()  # type: ignore[attr-defined]

    assert message.status == "queued"
    assert info.value.code == 21610
    call = await twilio_api.wait_for_async(predicate=lambda c: c.params["Body"] == "async")
    assert call.params["To"] == TO
