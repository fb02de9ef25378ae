"""``python -m bot set-webhook`` against the fake Bot API (python-telegram-bot's real Bot)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import get_settings
from tests.fakes import fixtures
from tests.fakes.loopback import LoopbackGuard
from tests.fakes.telegram_api import BOT_USERNAME, FakeTelegramApi

telegram_api = fixtures.telegram_api
loopback_only = fixtures.loopback_only

SECRET = "s3cret_Webhook-token"
PUBLIC = "https://bot.example.org"


@pytest.fixture
def env(
    monkeypatch: pytest.MonkeyPatch,
    telegram_api: FakeTelegramApi,
    loopback_only: LoopbackGuard,
    tmp_path: Path,
) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", telegram_api.token)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", telegram_api.base_url)
    monkeypatch.setenv("PUBLIC_BASE_URL", PUBLIC)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_registers_the_webhook_with_secret_and_allowed_updates(
    env: pytest.MonkeyPatch, telegram_api: FakeTelegramApi, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["set-webhook"]) == 0
    [call] = telegram_api.calls("setWebhook")
    assert call.params["url"] == f"{PUBLIC}/webhooks/telegram"
    assert call.params["secret_token"] == SECRET
    assert call.params["allowed_updates"] == ["message", "edited_message", "callback_query"]
    assert call.params["max_connections"] == 40
    assert call.params["drop_pending_updates"] is False
    assert telegram_api.webhook["url"] == f"{PUBLIC}/webhooks/telegram"
    out = capsys.readouterr()
    assert f"@{BOT_USERNAME}" in out.out and f"{PUBLIC}/webhooks/telegram" in out.out
    assert telegram_api.token not in out.out + out.err
    assert SECRET not in out.out + out.err


def test_options_are_passed_on(env: pytest.MonkeyPatch, telegram_api: FakeTelegramApi) -> None:
    assert main(["set-webhook", "--drop-pending-updates", "--max-connections", "10"]) == 0
    [call] = telegram_api.calls("setWebhook")
    assert call.params["drop_pending_updates"] is True
    assert call.params["max_connections"] == 10


def test_an_http_public_url_is_registered_with_a_warning(
    env: pytest.MonkeyPatch, telegram_api: FakeTelegramApi, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("PUBLIC_BASE_URL", "http://127.0.0.1:8000")
    get_settings.cache_clear()
    assert main(["set-webhook"]) == 0
    assert "only calls https://" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TELEGRAM_WEBHOOK_SECRET", None, "TELEGRAM_WEBHOOK_SECRET is not set"),
        ("TELEGRAM_WEBHOOK_SECRET", "has spaces!", "1-256 characters"),
        ("TELEGRAM_WEBHOOK_SECRET", "x" * 257, "1-256 characters"),
        ("TELEGRAM_BOT_TOKEN", None, "TELEGRAM_BOT_TOKEN is not set"),
    ],
)
def test_missing_or_invalid_settings_are_named(
    env: pytest.MonkeyPatch,
    telegram_api: FakeTelegramApi,
    capsys: pytest.CaptureFixture[str],
    name: str,
    value: str | None,
    message: str,
) -> None:
    if value is None:
        env.delenv(name)
    else:
        env.setenv(name, value)
    get_settings.cache_clear()
    assert main(["set-webhook"]) == 2
    assert message in capsys.readouterr().err
    assert telegram_api.calls("setWebhook") == []


def test_a_refused_token_fails_cleanly(
    env: pytest.MonkeyPatch, telegram_api: FakeTelegramApi, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("TELEGRAM_BOT_TOKEN", "999:not-a-known-token")
    get_settings.cache_clear()
    assert main(["set-webhook"]) == 1
    err = capsys.readouterr().err
    assert "Telegram refused TELEGRAM_BOT_TOKEN" in err and "not-a-known-token" not in err
    assert telegram_api.webhook == {}


def test_a_bot_api_error_fails_cleanly(
    env: pytest.MonkeyPatch, telegram_api: FakeTelegramApi, capsys: pytest.CaptureFixture[str]
) -> None:
    telegram_api.fail_next("setWebhook", 400, description="Bad Request: bad webhook: HTTPS needed")
    assert main(["set-webhook"]) == 1
    assert "set-webhook failed: Bad webhook: https needed" in capsys.readouterr().err
