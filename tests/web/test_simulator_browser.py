"""The simulator page in Chromium, as ``make run`` serves it (development, no account): it
gets a conversation id from the server, chats, and replaces a stored id the server refuses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from bot.db.migrate import upgrade
from bot.runtime import build_runtime
from bot.settings import load_settings
from bot.web.app import create_app
from tests.fakes.server import BackgroundServer

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
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    database = f"sqlite:///{tmp_path_factory.mktemp('sim') / 'sim.db'}"
    upgrade(database)
    settings = load_settings(
        database_url=database, log_level="WARNING", run_workers_in_server=False
    )
    runtime = build_runtime(settings)
    server = BackgroundServer(create_app(settings, runtime=runtime), startup_timeout=30)
    server._config.lifespan = "on"  # the app's lifespan puts the runtime in its state
    with server:
        yield server.url
    runtime.close()


@pytest.fixture
def page(url: str) -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser: Browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        tab = browser.new_context(locale="es-PE").new_page()
        yield tab
        browser.close()


def say(page: Page, text: str) -> None:
    page.fill("#text", text)
    page.press("#text", "Enter")


def test_the_page_chats_with_a_server_issued_conversation(page: Page, url: str) -> None:
    page.goto(url)  # "/" leads to the simulator
    say(page, "hola")
    expect(page.locator(".msg.bot").first).to_contain_text("emergencias", timeout=15_000)
    stored = page.evaluate("localStorage.getItem('sim-conversation')")
    assert isinstance(stored, str) and len(stored) == 64


def test_a_stored_id_the_server_refuses_is_replaced(page: Page, url: str) -> None:
    page.goto(f"{url}/simulator")
    page.evaluate("localStorage.setItem('sim-conversation', 'made-up-id')")
    say(page, "hola")
    expect(page.locator(".msg.bot").first).to_contain_text("emergencias", timeout=15_000)
    assert page.locator(".error").count() == 0
    assert page.evaluate("localStorage.getItem('sim-conversation')") != "made-up-id"
