"""A Twilio call through the real SDK writes no INFO lines of its own (the SDK dumps each
request and response at INFO: about 11 lines a call, with the recipient's number)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.channels.twilio.http import make_async_twilio_client
from bot.logging import configure_logging
from tests.fakes import fixtures
from tests.fakes.loopback import LoopbackGuard
from tests.fakes.twilio_api import FakeTwilioApi

twilio_api = fixtures.twilio_api
loopback_only = fixtures.loopback_only


@pytest.fixture
def json_logs() -> Iterator[None]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    levels = {n: logging.getLogger(n).level for n in ("httpx", "httpcore", "twilio")}
    try:
        yield
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
        for name, value in levels.items():
            logging.getLogger(name).setLevel(value)


async def test_a_twilio_call_logs_nothing_at_info(
    twilio_api: FakeTwilioApi,
    loopback_only: LoopbackGuard,
    json_logs: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO")
    client = make_async_twilio_client(twilio_api.account_sid, twilio_api.auth_token, twilio_api.url)
    try:
        await client.messages.create_async(
            to="whatsapp:+51987654321", from_="whatsapp:+14155238886", body="hola"
        )
    finally:
        await client.http_client.close()  # type: ignore[union-attr]
    written = capsys.readouterr().err.strip().splitlines()
    assert written == []
