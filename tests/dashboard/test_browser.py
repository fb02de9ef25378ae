"""The dashboard in a real browser: Debian's Chromium driven by Playwright, against the real
app served by uvicorn on 127.0.0.1 with its background loops, SQLite, and the fake Telegram
Bot API. One browser for the module; every wait is on a condition."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlmodel import Session, select

from bot.dashboard.accounts import FREE_FAILURES, Accounts
from bot.db.migrate import upgrade
from bot.db.models import Participant, utcnow
from bot.flows import Inbound
from bot.runtime import Runtime, build_runtime
from bot.settings import load_settings
from bot.web.app import create_app
from tests.fakes.server import BackgroundServer
from tests.fakes.telegram_api import FakeTelegramApi

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PASSWORD = "una frase bastante larga"
PSYCHOLOGIST_CHAT = 900000111
SLOW = 30_000  # ms: generous for a busy 2-core machine; waits end as soon as the condition holds

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")
_ids = itertools.count(1)


@dataclass
class Stack:
    url: str
    runtime: Runtime
    telegram: FakeTelegramApi

    def say(self, chat: str, *texts: str) -> None:
        for text in texts:
            self.runtime.conversations.handle(
                Inbound(
                    channel="telegram",
                    external_id=chat,
                    provider_message_id=f"browser-{next(_ids)}",
                    received_at=utcnow(),
                    text=text,
                )
            )

    def pseudonym(self, chat: str) -> str:
        """The (random) pseudonym the service gave the person writing from ``chat``."""
        cipher = self.runtime.cipher
        with Session(self.runtime.db) as session:
            person = session.exec(
                select(Participant).where(
                    Participant.external_hash == cipher.lookup_hash("telegram", chat)
                )
            ).one()
            return person.pseudonym


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("browser")
    roster = folder / "oncall.yaml"
    roster.write_text(
        "psychologists:\n  - id: maria\n    name: María Quispe\n"
        f"    contacts: {{telegram_chat_id: {PSYCHOLOGIST_CHAT}}}\n",
        encoding="utf-8",
    )
    url = f"sqlite:///{folder / 'dashboard.db'}"
    upgrade(url)
    with FakeTelegramApi() as telegram:
        settings = load_settings(
            database_url=url,
            oncall_file=roster,
            telegram_bot_token=telegram.token,
            telegram_api_base_url=telegram.base_url,
            run_workers_in_server=True,
            log_level="WARNING",
        )
        runtime = build_runtime(settings)
        accounts = Accounts(runtime.db)
        accounts.create_user("maria", PASSWORD, "psychologist", psychologist_id="maria")
        accounts.create_user("jorge", PASSWORD, "psychologist")
        server = BackgroundServer(create_app(settings, runtime=runtime), startup_timeout=30)
        server._config.lifespan = "on"  # the app's lifespan starts the background loops
        with server:
            yield Stack(server.url, runtime, telegram)
        runtime.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="es-PE")
    tab = context.new_page()
    yield tab
    context.close()


def sign_in(page: Page, stack: Stack, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{stack.url}/dashboard")
    expect(page).to_have_url(f"{stack.url}/dashboard/login?next=/dashboard")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")


def test_a_case_from_alert_to_resolution(page: Page, stack: Stack) -> None:
    sign_in(page, stack, "maria")
    expect(page.locator("h1")).to_have_text("Casos abiertos")
    rows = page.locator("#queue-rows tr")

    # a routine case first: somebody asks to talk to a psychologist
    stack.say("700000001", "hola", "1", "1", "5")
    expect(rows.first).to_contain_text(stack.pseudonym("700000001"), timeout=SLOW)
    expect(rows.first).to_contain_text("Rutina")
    page.evaluate("window.__sameDocument = true")

    # crisis words in the middle of a PHQ-9, then "yes, right now": imminent
    crisis_chat = "700000002"
    stack.say(crisis_chat, "hola", "1", "1", "1", "2", "me quiero matar", "1")
    expect(rows.first).to_contain_text(stack.pseudonym(crisis_chat), timeout=SLOW)
    expect(rows.first).to_contain_text("Inminente")
    expect(rows.nth(1)).to_contain_text(stack.pseudonym("700000001"))
    assert page.evaluate("window.__sameDocument === true")  # live, without a reload
    stack.telegram.wait_for(
        "sendMessage", lambda c: c.params.get("chat_id") == PSYCHOLOGIST_CHAT, timeout=30
    )

    rows.first.get_by_role("button", name="Asumir caso").click()
    expect(page.locator("#case-status")).to_have_text("Asumido", timeout=SLOW)
    expect(page.locator(".card").first).to_contain_text("me quiero matar")

    mark = stack.telegram.mark()
    page.fill("#reply", "Hola, soy María, psicóloga del programa. ¿Estás a salvo ahora?")
    page.get_by_role("button", name="Enviar").click()
    expect(page.locator("#case-status")).to_have_text("En conversación", timeout=SLOW)
    sent = stack.telegram.wait_for(
        "sendMessage",
        lambda c: (
            str(c.params.get("chat_id")) == crisis_chat
            and "¿Estás a salvo ahora?" in str(c.params.get("text"))
        ),
        timeout=30,
        since=mark,
    )
    assert "María" in sent.params["text"]

    page.evaluate("window.__sameDocument = true")
    stack.say(crisis_chat, "Sí, estoy en casa con mi mamá")
    expect(page.locator("#messages")).to_contain_text("estoy en casa con mi mamá", timeout=SLOW)
    assert page.evaluate("window.__sameDocument === true")

    page.select_option("#outcome", "referred_csmc")
    page.fill("#note", "Acepta cita en el CSMC de su distrito mañana.")
    page.get_by_role("button", name="Cerrar caso").click()
    expect(page.locator("#case-status")).to_have_text("Cerrado", timeout=SLOW)
    page.goto(f"{stack.url}/dashboard")
    expect(rows.first).not_to_contain_text(stack.pseudonym(crisis_chat))


def test_without_a_session_the_dashboard_shows_the_login(page: Page, stack: Stack) -> None:
    for path in ("/dashboard", "/dashboard/roster", "/dashboard/reports", "/dashboard/cases/1"):
        page.goto(f"{stack.url}{path}")
        expect(page.locator("h1")).to_have_text("Ingresar")
    response = page.request.post(f"{stack.url}/dashboard/cases/1/acknowledge")
    assert response.status == 401


def test_a_form_with_a_forged_csrf_token_is_refused(page: Page, stack: Stack) -> None:
    sign_in(page, stack, "jorge")
    expect(page.locator("h1")).to_have_text("Casos abiertos")
    page.evaluate(
        "document.querySelectorAll('input[name=csrf_token]').forEach(i => i.value = 'forged')"
    )
    with page.expect_response(lambda r: r.url.endswith("/dashboard/logout")) as info:
        page.get_by_role("button", name="Salir").click()
    assert info.value.status == 403
    page.goto(f"{stack.url}/dashboard")
    expect(page.locator("h1")).to_have_text("Casos abiertos")  # still signed in


def test_repeated_failures_slow_the_address_down(page: Page, stack: Stack) -> None:
    accounts = Accounts(stack.runtime.db)
    accounts.create_user("lucia", PASSWORD, "psychologist")

    def failures() -> int:
        return next(u.failed_logins for u in accounts.users() if u.username == "lucia")

    # Keep failing (a try too soon is refused unchecked) until the wait is 16 s long.
    for _ in range(400):
        sign_in(page, stack, "lucia", "no es la clave")
        expect(page.locator(".flash.error")).to_be_visible()
        if failures() >= FREE_FAILURES + 3:
            break
    assert failures() >= FREE_FAILURES + 3
    sign_in(page, stack, "lucia", PASSWORD)
    expect(page.locator(".flash.error")).to_contain_text("Demasiados intentos fallidos")
    page.goto(f"{stack.url}/dashboard")
    expect(page.locator("h1")).to_have_text("Ingresar")
