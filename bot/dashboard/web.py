"""What every dashboard page shares: templates, strings, formatting and response headers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from bot.dashboard.accounts import Accounts
from bot.dashboard.i18n import Strings, pick_language, strings_for
from bot.dashboard.login_csrf import LoginCsrf
from bot.dashboard.replies import replies_for
from bot.escalation import paging
from bot.http.client_address import Network, parse_networks
from bot.http.security_headers import SECURITY_HEADERS

if TYPE_CHECKING:
    from bot.runtime import Runtime

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"
LIMA = ZoneInfo("America/Lima")
LANG_COOKIE = "dash_lang"


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return value.astimezone(LIMA).strftime(fmt) if value is not None else "—"


def duration(t: Strings, delta: timedelta) -> str:
    """``45 s``, ``12 min``, ``3 h 05 min``, ``2 d 4 h`` (units from the strings)."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return t("units.seconds", n=seconds)
    minutes = seconds // 60
    if minutes < 60:
        return t("units.minutes", n=minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return t("units.hours_minutes", h=hours, m=f"{minutes:02d}")
    days, hours = divmod(hours, 24)
    return t("units.days_hours", d=days, h=hours)


class Dashboard:
    """The dashboard's parts for one running app (built on first use, kept in app.state)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.accounts = Accounts(runtime.db)
        self.strings = strings_for(runtime.settings.config_dir)
        replies_for(runtime.settings.config_dir)  # a broken replies file fails here, named
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(["html", "svg"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["local"] = local_time

    @cached_property
    def login_csrf(self) -> LoginCsrf:
        return LoginCsrf(self.runtime.settings.secret_key.get_secret_value())

    @cached_property
    def trusted_proxies(self) -> tuple[Network, ...]:
        return parse_networks(self.runtime.settings.trusted_proxies)

    @cached_property
    def secure_cookies(self) -> bool:
        return self.runtime.settings.public_base_url.startswith("https://")


def dashboard(request: Request) -> Dashboard:
    state = request.app.state
    existing: Dashboard | None = getattr(state, "dashboard", None)
    if existing is None or existing.runtime is not state.runtime:
        existing = Dashboard(state.runtime)
        state.dashboard = existing
    return existing


def language(request: Request) -> str:
    runtime: Runtime = request.app.state.runtime
    return pick_language(
        request.cookies.get(LANG_COOKIE),
        request.headers.get("accept-language"),
        runtime.settings.default_language,
    )


def strings(request: Request) -> Strings:
    return dashboard(request).strings[language(request)]


@dataclass
class Page:
    """The context every template gets."""

    request: Request
    t: Strings
    user: Any = None
    csrf: str = ""
    active: str = ""

    @property
    def lang(self) -> str:
        return self.t.language

    def ago(self, since: datetime | None, now: datetime) -> str:
        return duration(self.t, now - since) if since is not None else "—"

    def dur(self, delta: timedelta) -> str:
        return duration(self.t, delta)

    @cached_property
    def paging(self) -> list[paging.Problem]:
        """What stands between a new case and a psychologist now (the banner on every page)."""
        runtime: Runtime = self.request.app.state.runtime
        strict = runtime.settings.environment == "production"
        return paging.problems(runtime.escalation, strict=strict)

    def label(self, group: str, value: object) -> str:
        """The words for a stored code (``priority``, ``channel``, ``status``…): a code the
        strings do not know is shown as it is (an empty one as ``unknown``), never an error."""
        code = str(value) if value is not None else ""
        key = f"{group}.{code}"
        if code and key in self.t.texts:
            return self.t(key)
        return code or self.t("common.unknown")


def render(page: Page, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = dashboard(page.request).env.get_template(template).render(page=page, t=page.t, **context)
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)


def safe_next(target: str | None) -> str:
    """A post-login destination inside the dashboard only (never another site)."""
    if (
        target
        and target.startswith("/dashboard")
        and "//" not in target
        and "\\" not in target
        and len(target) < 512
    ):
        return target
    return "/dashboard"
