"""Settings fail fast with one line that names the setting; secrets never show."""

from __future__ import annotations

import pytest

from bot.settings import DEV_SECRET_KEY, SettingsError, load_settings


def test_defaults_run_on_sqlite_under_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = load_settings()
    assert settings.database_url.startswith("sqlite:///")
    assert settings.database_url.endswith("var/screening.db")
    assert settings.inactivity_expiry_hours == 24


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("DATABASE_URL", "mysql://x", "invalid setting DATABASE_URL"),
        ("SECRET_KEY", "short", "invalid setting SECRET_KEY"),
        ("PUBLIC_BASE_URL", "example.org", "invalid setting PUBLIC_BASE_URL"),
        ("INACTIVITY_EXPIRY_HOURS", "-1", "invalid setting INACTIVITY_EXPIRY_HOURS"),
        ("CONFIG_DIR", "/nonexistent/folder", "invalid setting CONFIG_DIR"),
        ("TWILIO_WEBHOOK_OVERRIDES", "rc=3&retries=5", "invalid setting TWILIO_WEBHOOK_OVERRIDES"),
        ("TWILIO_WEBHOOK_OVERRIDES", "rc", "invalid setting TWILIO_WEBHOOK_OVERRIDES"),
    ],
)
def test_a_bad_value_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as error:
        load_settings()
    message = str(error.value)
    assert message.startswith(expected)
    assert "\n" not in message


def test_postgresql_urls_get_the_psycopg_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    assert load_settings().database_url == "postgresql+psycopg://u@h/db"


def test_secrets_are_not_in_the_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "tw-secret-value-123")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:tg-secret-value")
    settings = load_settings()
    shown = repr(settings) + str(settings.model_dump())
    assert "tw-secret-value-123" not in shown
    assert "tg-secret-value" not in shown


def test_production_refuses_the_development_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", DEV_SECRET_KEY)
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        load_settings()
