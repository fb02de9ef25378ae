"""Fetching a person's file from the platform (``bot.channels.media``), against the fake
Bot API and the fake Twilio API on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from bot.channels import media
from bot.channels.media import MediaUnavailable, fetch_media
from bot.channels.telegram.media import file_base_url
from bot.settings import Settings, load_settings
from tests.fakes import fixtures
from tests.fakes.telegram_api import DEFAULT_TOKEN, FakeTelegramApi
from tests.fakes.twilio_api import FakeTwilioApi

telegram_api = fixtures.telegram_api
loopback_only = fixtures.loopback_only
SID = "SM" + "1" * 32


@pytest.fixture
def twilio_api() -> Iterator[FakeTwilioApi]:
    with FakeTwilioApi() as fake:
        yield fake


def settings(
    telegram: FakeTelegramApi | None = None, twilio: FakeTwilioApi | None = None
) -> Settings:
    values: dict[str, object] = {"database_url": "sqlite://", "log_level": "WARNING"}
    if telegram is not None:
        values |= {"telegram_bot_token": DEFAULT_TOKEN, "telegram_api_base_url": telegram.base_url}
    if twilio is not None:
        values |= {
            "twilio_account_sid": twilio.account_sid,
            "twilio_auth_token": twilio.auth_token,
            "twilio_api_base_url": twilio.url,
        }
    return load_settings(**values)


def test_the_file_url_sits_beside_the_method_url() -> None:
    assert file_base_url("https://api.telegram.org/bot") == "https://api.telegram.org/file/bot"
    assert file_base_url("http://127.0.0.1:8081/bot/") == "http://127.0.0.1:8081/file/bot"


async def test_a_telegram_file_is_fetched_with_get_file(
    telegram_api: FakeTelegramApi, loopback_only: object
) -> None:
    telegram_api.add_file("f1", b"voice", "voice/file_1.oga")
    fetched = await fetch_media(settings(telegram_api), "telegram", "f1")
    assert fetched.body == b"voice"
    [call] = telegram_api.calls("getFile")
    assert call.params["file_id"] == "f1"


async def test_a_telegram_file_over_the_limit_is_not_downloaded(
    telegram_api: FakeTelegramApi, loopback_only: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(media, "MAX_MEDIA_BYTES", 4)
    telegram_api.add_file("big", b"0123456789", "videos/file_2.mp4")
    with pytest.raises(MediaUnavailable) as raised:
        await fetch_media(settings(telegram_api), "telegram", "big")
    assert raised.value.reason == "too_large"
    assert telegram_api.calls("downloadFile") == []


@pytest.mark.parametrize(("status", "reason"), [(400, "gone"), (500, "unavailable")])
async def test_telegram_refusing_says_why(
    telegram_api: FakeTelegramApi, loopback_only: object, status: int, reason: str
) -> None:
    telegram_api.add_file("f1", b"voice", "voice/file_1.oga")
    telegram_api.fail_next("getFile", status)
    with pytest.raises(MediaUnavailable) as raised:
        await fetch_media(settings(telegram_api), "telegram", "f1")
    assert raised.value.reason == reason


async def test_a_whatsapp_file_is_fetched_with_the_account_credentials(
    twilio_api: FakeTwilioApi, loopback_only: object
) -> None:
    url = twilio_api.add_media(SID, b"\xff\xd8jpeg", "image/jpeg")
    fetched = await fetch_media(settings(twilio=twilio_api), "whatsapp", url)
    assert (fetched.body, fetched.content_type) == (b"\xff\xd8jpeg", "image/jpeg")


async def test_wrong_credentials_are_refused_by_twilio(
    twilio_api: FakeTwilioApi, loopback_only: object
) -> None:
    url = twilio_api.add_media(SID, b"x", "image/jpeg")
    wrong = settings(twilio=twilio_api).model_copy(
        update={"twilio_auth_token": SecretStr("not-the-token")}
    )
    with pytest.raises(MediaUnavailable) as raised:
        await fetch_media(wrong, "whatsapp", url)
    assert raised.value.reason == "unavailable"
    [call] = twilio_api.calls("media.fetch")
    assert call.headers["authorization"].startswith("Basic ")


@pytest.mark.parametrize(
    "url",
    [
        f"https://api.twilio.com/2010-04-01/Accounts/AC{'9' * 32}/Messages/{SID}/Media/ME1",
        f"https://evil.example/2010-04-01/Accounts/{{sid}}/Messages/{SID}/Media/ME1",
        f"http://api.twilio.com/2010-04-01/Accounts/{{sid}}/Messages/{SID}/Media/ME1",
        "https://api.twilio.com/2010-04-01/Accounts/{sid}/Messages.json",
    ],
    ids=["other-account", "other-host", "not-https", "not-media"],
)
async def test_only_this_accounts_media_urls_are_fetched(
    twilio_api: FakeTwilioApi, loopback_only: object, url: str
) -> None:
    with pytest.raises(MediaUnavailable) as raised:
        await fetch_media(
            settings(twilio=twilio_api), "whatsapp", url.format(sid=twilio_api.account_sid)
        )
    assert raised.value.reason == "gone"
    assert twilio_api.calls() == []


async def test_a_channel_without_credentials_is_not_configured() -> None:
    with pytest.raises(MediaUnavailable) as raised:
        await fetch_media(settings(), "telegram", "f1")
    assert raised.value.reason == "not_configured"
