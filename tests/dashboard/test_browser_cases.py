"""The queue and a case in Chromium: reasons in words, a note, a prepared reply edited and
sent, handing the case to a colleague, a case whose person erased their data, and every
page at 360 px without sideways scrolling. The real app under uvicorn with its loops,
SQLite and the fake Telegram Bot API; one browser for the module; waits on conditions."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from bot.dashboard.accounts import Accounts
from bot.db.migrate import upgrade
from bot.db.models import utcnow
from bot.flows import Inbound
from bot.flows.types import Media
from bot.runtime import Runtime, build_runtime
from bot.settings import load_settings
from bot.web.app import create_app
from tests.dashboard.people import pseudonym_of
from tests.fakes.server import BackgroundServer
from tests.fakes.telegram_api import FakeTelegramApi

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]  # fmt: skip
PASSWORD = "una frase bastante larga"
MARIA_CHAT, LUIS_CHAT = 900000211, 900000212
SLOW = 30_000

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")
_ids = itertools.count(1)


@dataclass
class Stack:
    url: str
    runtime: Runtime
    telegram: FakeTelegramApi

    def say(self, chat: str, *texts: str, media: Media | None = None) -> None:
        for text in texts:
            self.runtime.conversations.handle(
                Inbound(
                    channel="telegram",
                    external_id=chat,
                    provider_message_id=f"cases-{next(_ids)}",
                    received_at=utcnow(),
                    text=text,
                    kind="text" if text else "unsupported",
                    media=media,
                )
            )

    def pseudonym(self, chat: str) -> str:
        return pseudonym_of(self.runtime, chat)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("browser-cases")
    roster = folder / "oncall.yaml"
    roster.write_text(
        "psychologists:\n"
        f"  - {{id: maria, name: María Quispe, contacts: {{telegram_chat_id: {MARIA_CHAT}}}}}\n"
        f"  - {{id: luis, name: Luis Mamani, contacts: {{telegram_chat_id: {LUIS_CHAT}}}}}\n",
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
        accounts.create_user("maria", PASSWORD, "admin", psychologist_id="maria")
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


def _page(browser: Browser, width: int) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="es-PE")
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    yield from _page(browser, 1280)


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    yield from _page(browser, 360)


def sign_in(page: Page, stack: Stack) -> None:
    page.goto(f"{stack.url}/dashboard")
    page.fill("#username", "maria")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Casos abiertos")


def _row(page: Page, stack: Stack, chat: str):  # type: ignore[no-untyped-def]
    return page.locator("#queue-rows tr", has_text=stack.pseudonym(chat))


def test_a_case_read_noted_answered_and_handed_over(page: Page, stack: Stack) -> None:
    sign_in(page, stack)
    chat = "700000101"
    stack.say(chat, "hola", "1", "1", "ya no aguanto más, quiero morirme")
    row = _row(page, stack, chat)
    expect(row).to_contain_text("Escribió: «ya no aguanto más, quiero morirme»", timeout=SLOW)
    assert (row.locator("td.reason span").first.get_attribute("title") or "").startswith(
        "Regla: text."
    )
    row.get_by_role("button", name="Asumir caso").click()
    expect(page.locator("#case-status")).to_have_text("Asumido", timeout=SLOW)
    expect(page.locator("#summary")).to_contain_text("quiero morirme")

    # an internal note: kept on the case, never sent
    mark = stack.telegram.mark()
    page.fill("#note-text", "Vive con su hermana; prefiere que le escriban por la tarde.")
    page.get_by_role("button", name="Guardar nota").click()
    expect(page.locator("#notes")).to_contain_text("prefiere que le escriban por la tarde")
    expect(page.locator(".flash")).to_have_text("Nota interna guardada.")

    # a prepared reply fills the box; it is edited, then sent
    page.select_option("#prepared", "check_safety")
    expect(page.locator("#reply")).to_have_value(
        "Hola, soy del equipo de psicología del programa. Leí su mensaje y quiero saber cómo "
        "está. ¿Está a salvo en este momento?"
    )
    page.fill("#reply", page.input_value("#reply") + " Soy María.")
    page.get_by_role("button", name="Enviar").click()
    expect(page.locator("#case-status")).to_have_text("En conversación", timeout=SLOW)
    sent = stack.telegram.wait_for(
        "sendMessage",
        lambda c: str(c.params.get("chat_id")) == chat and "Soy María." in str(c.params["text"]),
        timeout=30,
        since=mark,
    )
    assert "¿Está a salvo en este momento?" in sent.params["text"]
    assert not any(
        "prefiere que le escriban" in str(c.params.get("text"))
        for c in stack.telegram.calls("sendMessage")
    )

    # handed to Luis, who is told on Telegram
    page.select_option("#colleague", "luis")
    page.fill("#transfer-note", "Ya respondió; seguir esta noche.")
    page.get_by_role("button", name="Transferir").click()
    expect(page.locator("#case-holder")).to_have_text("Luis Mamani", timeout=SLOW)
    told = stack.telegram.wait_for(
        "sendMessage",
        lambda c: c.params.get("chat_id") == LUIS_CHAT and "te lo transfirió" in c.params["text"],
        timeout=30,
        since=mark,
    )
    assert "Ya respondió; seguir esta noche." in told.params["text"]
    expect(page.locator("#timeline")).to_contain_text("Transferido", timeout=SLOW)


def test_the_borrar_race_leaves_a_row_that_says_so(page: Page, stack: Stack) -> None:
    sign_in(page, stack)
    chat = "700000102"
    stack.say(chat, "hola", "1", "1", "5", "borrar", "1")
    erased = page.locator("#queue-rows tr", has_text="Datos borrados")
    expect(erased.first).to_be_visible(timeout=SLOW)
    expect(page.locator("#queue-rows .row-error")).to_have_count(0)
    erased.first.get_by_role("link", name="Abrir").click()
    expect(page.locator("#person-deleted")).to_contain_text("no se le puede contactar")
    expect(page.locator("#reply")).to_have_count(0)


def test_every_page_fits_a_360_px_phone(phone: Page, stack: Stack) -> None:
    chat = "700000103"
    stack.say(chat, "hola", "1", "1", "1", "2", "3", "me quiero matar", "1")
    sign_in(phone, stack)
    row = _row(phone, stack, chat)
    expect(row).to_be_visible(timeout=SLOW)
    case_url = row.get_by_role("link", name="Abrir").get_attribute("href")
    for path in (
        "/dashboard",
        case_url,
        "/dashboard/roster",
        "/dashboard/reports",
        "/dashboard/users",
        "/dashboard/review",
    ):
        phone.goto(f"{stack.url}{path}")
        expect(phone.locator("h1")).to_be_visible()
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, (path, width)


def test_a_voice_note_opens_from_the_case_on_a_phone(phone: Page, stack: Stack) -> None:
    chat = "700000104"
    stack.say(chat, "hola", "1", "1", "me quiero matar", "1")
    stack.telegram.add_file("voice-b1", b"OggS-voice-note", "voice/file_b1.oga")
    stack.say(chat, "", media=Media("voice", "voice-b1", "audio/ogg"))
    sign_in(phone, stack)
    row = _row(phone, stack, chat)
    expect(row).to_be_visible(timeout=SLOW)
    row.get_by_role("link", name="Abrir").click()
    voice = phone.locator("#messages .msg.person .media", has_text="nota de voz")
    expect(voice).to_be_visible(timeout=SLOW)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    link = voice.get_by_role("link", name="abrir")
    with phone.context.expect_page() as opened:
        link.click()
    tab = opened.value
    tab.wait_for_load_state()
    # The file came from the Bot API through the server, in this signed-in browser only.
    answer = phone.request.get(f"{stack.url}{link.get_attribute('href')}")
    assert answer.status == 200 and answer.body() == b"OggS-voice-note"
    assert answer.headers["content-type"] == "audio/ogg"
    tab.close()
    expect(phone.locator("#timeline")).to_contain_text("Archivo abierto", timeout=SLOW)
