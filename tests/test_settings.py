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


def test_production_refuses_unsafe_combinations_one_line_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", DEV_SECRET_KEY)
    monkeypatch.setenv("PUBLIC_BASE_URL", "http://bot.example.org")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC" + "0" * 32)
    monkeypatch.setenv("TWILIO_API_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("METRICS_TOKEN", "short")
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    lines = str(raised.value).splitlines()
    assert [line.split(":", 1)[0] for line in lines] == [
        "SECRET_KEY",
        "PUBLIC_BASE_URL",
        "TWILIO_API_BASE_URL",
        "TELEGRAM_WEBHOOK_SECRET",
        "TWILIO_AUTH_TOKEN",
        "METRICS_TOKEN",
        "LOG_LEVEL",
    ]


def test_a_safe_production_configuration_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", "a-real-production-key-0123456789abcdef")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://bot.example.org")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "a-webhook-secret-0123456789")
    settings = load_settings()
    assert not settings.simulator_on  # off unless enabled
    monkeypatch.setenv("SIMULATOR_ENABLED", "true")
    enabled = load_settings()
    assert enabled.simulator_on and enabled.simulator_needs_sign_in


def test_the_simulator_is_on_in_development_without_sign_in() -> None:
    settings = load_settings(environment="development")
    assert settings.simulator_on and not settings.simulator_needs_sign_in


def test_a_bad_metrics_address_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("METRICS_ALLOWED_ADDRESSES", "10.0.0.0/8,not-an-address")
    with pytest.raises(SettingsError, match="METRICS_ALLOWED_ADDRESSES"):
        load_settings()
