"""Service settings: one pydantic-settings class, read from the environment and ``.env``.

A bad value stops start-up with one line naming the setting (see :func:`load_settings`).
Secrets are ``SecretStr`` so they never reach a log or a repr.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me-000000"
_CONTENT_SID = re.compile(r"HX[0-9a-fA-F]{32}")  # Twilio Content API SIDs (bot/delivery)
#: Twilio's webhook connection overrides (docs: "Webhooks (HTTP callbacks): Connection
#: Overrides"): timeouts, retry count and policy, total time, edge, SNI.
_TWILIO_OVERRIDES = ("ct", "rt", "tt", "rc", "rp", "e", "sni")


class SettingsError(SystemExit):
    """Raised (and exits) when a setting is invalid; the message names the setting."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    environment: Literal["development", "production", "test"] = Field(
        default="development", description="`production` refuses the development SECRET_KEY."
    )
    database_url: str = Field(
        default=f"sqlite:///{ROOT / 'var' / 'screening.db'}",
        description="SQLAlchemy URL. SQLite (default) or `postgresql+psycopg://user@host/db`.",
    )
    secret_key: SecretStr = Field(
        default=SecretStr(DEV_SECRET_KEY),
        description="Key for hashing and encrypting phone numbers and chat ids (≥ 32 chars).",
    )
    config_dir: Path = Field(
        default=ROOT / "config", description="Folder with instruments, messages and resources."
    )
    oncall_file: Path = Field(
        default=ROOT / "config" / "oncall.yaml", description="On-call roster (YAML)."
    )
    public_base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The URL the platforms call (used to verify Twilio signatures).",
    )
    telegram_bot_token: SecretStr | None = Field(default=None, description="Telegram bot token.")
    telegram_webhook_secret: SecretStr | None = Field(
        default=None, description="Secret Telegram sends in X-Telegram-Bot-Api-Secret-Token."
    )
    telegram_api_base_url: str = Field(
        default="https://api.telegram.org/bot", description="Bot API base URL (tests use a fake)."
    )
    twilio_account_sid: str | None = Field(default=None, description="Twilio account SID.")
    twilio_auth_token: SecretStr | None = Field(default=None, description="Twilio auth token.")
    twilio_whatsapp_from: str | None = Field(
        default=None, description="Sender, e.g. `whatsapp:+14155238886` (the sandbox)."
    )
    twilio_sms_from: str | None = Field(
        default=None,
        pattern=r"^\+[1-9]\d{6,14}$",
        description="SMS sender number for alerts to on-call psychologists, e.g. `+15005550006`.",
    )
    twilio_api_base_url: str | None = Field(
        default=None, description="Twilio REST base URL override (tests use a fake)."
    )
    inactivity_expiry_hours: float = Field(
        default=24.0, gt=0, description="After this long without a message, a flow is not resumed."
    )
    default_language: Literal["es", "en"] = Field(default="es", description="First language.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Log level."
    )
    run_workers_in_server: bool = Field(
        default=True,
        description="Run the inbox, outbox and escalation loops inside `serve` "
        "(turn off when `python -m bot worker` processes do it).",
    )
    simulator_enabled: bool = Field(
        default=True, description="Serve the chat simulator at `/simulator`."
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or networks of the reverse proxies in front "
        "of the service, e.g. `127.0.0.1` (nginx on the same host) or `172.16.0.0/12` "
        "(Docker's bridge networks). Only from these is `X-Forwarded-For` believed for the "
        "client address (sign-in throttling, the audit log). Empty: the TCP peer is the client.",
    )

    # --- outbound delivery: WhatsApp templates and quick replies (bot/delivery) -------------
    twilio_template_followup_sid: str | None = Field(
        default=None,
        description="Content SID (`HX…`) of the approved WhatsApp template used for a "
        "follow-up outside the 24-hour window; its variable `{{1}}` receives the text. "
        "Without it such messages are held.",
    )
    twilio_template_psychologist_sid: str | None = Field(
        default=None,
        description="Content SID (`HX…`) of the approved WhatsApp template used for a "
        "psychologist's message outside the 24-hour window (`{{1}}` receives the text). "
        "Without it such messages are held.",
    )
    twilio_template_alert_sid: str | None = Field(
        default=None,
        description="Content SID (`HX…`) of the approved WhatsApp template for alerts to "
        "on-call psychologists (`{{1}}` receives the alert). Without it a WhatsApp alert "
        "outside the psychologist's 24-hour window fails and their next channel is tried.",
    )
    twilio_webhook_overrides: str | None = Field(
        default=None,
        description="Twilio connection overrides that the WhatsApp webhook URL configured in "
        "Twilio carries as its fragment, without the `#`, e.g. `rc=3&rp=ct,rt,5xx` (retry a "
        "503 three times: by default Twilio retries only a failed connection). The signature "
        "is then accepted over the URL with or without this fragment.",
    )
    twilio_quick_reply_sids: dict[str, str] = Field(
        default_factory=dict,
        description="Optional `twilio/quick-reply` Content SIDs by purpose and button count, "
        'as JSON, e.g. `{"reply:2": "HX…", "reply:3": "HX…"}`: `{{1}}` is the text, '
        "`{{2}}`/`{{3}}` the first button's title/id, `{{4}}`/`{{5}}` the second's, … "
        "Other messages show numbered options as text.",
    )

    @field_validator(
        "twilio_template_followup_sid",
        "twilio_template_psychologist_sid",
        "twilio_template_alert_sid",
    )
    @classmethod
    def _content_sid(cls, value: str | None) -> str | None:
        if value is not None and not _CONTENT_SID.fullmatch(value):
            raise ValueError("must be a Content SID: HX followed by 32 hex digits")
        return value

    @field_validator("twilio_webhook_overrides")
    @classmethod
    def _overrides(cls, value: str | None) -> str | None:
        if not value:
            return None
        value = value.removeprefix("#")
        for pair in value.split("&"):
            key, _, setting = pair.partition("=")
            if key not in _TWILIO_OVERRIDES or not setting:
                raise ValueError(
                    f"{pair!r}: expected key=value with a key among {', '.join(_TWILIO_OVERRIDES)}"
                )
        return value

    @field_validator("twilio_quick_reply_sids")
    @classmethod
    def _quick_reply_sids(cls, value: dict[str, str]) -> dict[str, str]:
        for key, sid in value.items():
            purpose, _, count = key.partition(":")
            if not purpose or count not in ("1", "2", "3") or not _CONTENT_SID.fullmatch(sid):
                raise ValueError('use {"<purpose>:<1-3 buttons>": "HX<32 hex digits>"}')
        return value

    # --- end of outbound delivery settings ---------------------------------------------------

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        from bot.web.client_address import parse_networks

        parse_networks(value)
        return value

    @field_validator("secret_key")
    @classmethod
    def _secret_long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters")
        return value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql+psycopg://", "postgresql://")):
            raise ValueError("must start with sqlite:// or postgresql+psycopg://")
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @field_validator("public_base_url", "telegram_api_base_url", "twilio_api_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/") if value else value

    @field_validator("config_dir")
    @classmethod
    def _existing_dir(cls, value: Path) -> Path:
        if not value.is_dir():
            raise ValueError(f"{value} is not a folder")
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def check_production(self) -> None:
        if self.environment == "production" and (
            self.secret_key.get_secret_value() == DEV_SECRET_KEY
        ):
            raise SettingsError("SECRET_KEY: the development key cannot be used in production")


def load_settings(**overrides: object) -> Settings:
    """Build the settings, turning a validation error into one clear line."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise SettingsError(f"invalid setting {name}: {first['msg']}") from None
    settings.check_production()
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
