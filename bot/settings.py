"""Service settings: one pydantic-settings class, read from the environment and ``.env``.

A bad value stops start-up with one line naming the setting (see :func:`load_settings`).
Secrets are ``SecretStr`` so they never reach a log or a repr.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.http.client_address import parse_networks

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
    simulator_enabled: bool | None = Field(
        default=None,
        description="Serve the chat simulator. Unset: on at `/simulator` outside production, "
        "off in production. `true` in production serves it at `/dashboard/simulator`, for "
        "signed-in staff only.",
    )
    simulator_rate_limit: int = Field(
        default=30,
        ge=1,
        description="Simulator messages accepted per minute from one signed-in account "
        "(production) or one client address (development); more get 429.",
    )

    # --- production defaults: metrics and timeouts (docs/security.md) ------------------------
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token that `GET /metrics` requires (`Authorization: Bearer …`). "
        "In production `/metrics` answers 403 unless this or METRICS_ALLOWED_ADDRESSES is set.",
    )
    metrics_allowed_addresses: str = Field(
        default="",
        description="Comma-separated addresses or networks (e.g. `10.0.0.0/8,127.0.0.1`) "
        "whose direct connections may read `/metrics` without the token.",
    )
    database_connect_timeout: float = Field(
        default=5.0, gt=0, le=300, description="Seconds to open a database connection."
    )
    database_statement_timeout: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="Seconds a statement may run (PostgreSQL `statement_timeout`) or wait for "
        "the lock (SQLite busy timeout).",
    )
    database_pool_timeout: float = Field(
        default=10.0, gt=0, le=300, description="Seconds to wait for a free pooled connection."
    )
    request_timeout: float = Field(
        default=10.0,
        gt=0,
        le=120,
        description="Seconds within which the webhooks and `/readyz` answer: past it they "
        "answer 503 (webhooks with `Retry-After`).",
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

    @field_validator("metrics_allowed_addresses")
    @classmethod
    def _networks(cls, value: str) -> str:
        for item in _split(value):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an address or network") from None
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def simulator_on(self) -> bool:
        """Whether the simulator is served: as set, else only outside production."""
        if self.simulator_enabled is None:
            return self.environment != "production"
        return self.simulator_enabled

    @property
    def simulator_needs_sign_in(self) -> bool:
        return self.environment == "production"

    @property
    def metrics_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(
            ipaddress.ip_network(item, strict=False)
            for item in _split(self.metrics_allowed_addresses)
        )

    def check_production(self) -> None:
        """Refuse unsafe combinations in production, one line for each (``production``)."""
        problems = production_problems(self)
        if problems:
            raise SettingsError("\n".join(problems))


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


#: A secret shorter than this is refused in production.
MIN_SECRET = 16


def production_problems(settings: Settings) -> list[str]:
    """What makes ``settings`` unsafe in production: one line per problem, naming the setting
    (nothing outside production)."""
    if settings.environment != "production":
        return []
    problems: list[str] = []
    if settings.secret_key.get_secret_value() == DEV_SECRET_KEY:
        problems.append("SECRET_KEY: the development key cannot be used in production")
    if not settings.public_base_url.startswith("https://"):
        problems.append("PUBLIC_BASE_URL: must be an https:// URL in production")
    for name, url in (
        ("TELEGRAM_API_BASE_URL", settings.telegram_api_base_url),
        ("TWILIO_API_BASE_URL", settings.twilio_api_base_url),
    ):
        if url is not None and not url.startswith("https://"):
            problems.append(f"{name}: must be an https:// URL in production")
    secret = settings.telegram_webhook_secret
    if settings.telegram_bot_token is not None and secret is None:
        problems.append(
            "TELEGRAM_WEBHOOK_SECRET: required in production when TELEGRAM_BOT_TOKEN is set"
        )
    if secret is not None and len(secret.get_secret_value()) < MIN_SECRET:
        problems.append(f"TELEGRAM_WEBHOOK_SECRET: at least {MIN_SECRET} characters in production")
    if settings.twilio_account_sid and settings.twilio_auth_token is None:
        problems.append("TWILIO_AUTH_TOKEN: required in production when TWILIO_ACCOUNT_SID is set")
    token = settings.metrics_token
    if token is not None and len(token.get_secret_value()) < 32:
        problems.append("METRICS_TOKEN: at least 32 characters in production")
    if settings.log_level == "DEBUG":
        problems.append("LOG_LEVEL: DEBUG is refused in production (libraries log addresses)")
    return problems


def load_settings(**overrides: Any) -> Settings:
    """Build the settings, turning a validation error into one clear line."""
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise SettingsError(f"invalid setting {name}: {first['msg']}") from None
    settings.check_production()
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
