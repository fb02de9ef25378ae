"""The review page in a real browser at phone width (360 px): Debian's Chromium driven by
Playwright, against the real app served by uvicorn on SQLite. A person writes to the bot
something the detector is unsure about; a psychologist labels it with one click."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from sqlmodel import Session, select

from bot.dashboard.accounts import Accounts
from bot.dashboard.models import DashboardEvent
from bot.db.migrate import upgrade
from bot.db.models import DetectionReview, utcnow
from bot.flows import Inbound
from bot.runtime import Runtime, build_runtime
from bot.settings import load_settings
from bot.web.app import create_app
from tests.dashboard.people import pseudonym_of
from tests.dashboard.test_browser import ARGS, CHROMIUM, PASSWORD, SLOW
from tests.fakes.server import BackgroundServer

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")
CHAT = "700000360"
UNSURE = "ya no aguanto más"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Runtime]]:
    url = f"sqlite:///{tmp_path / 'review.db'}"
    upgrade(url)
    settings = load_settings(database_url=url, run_workers_in_server=False, log_level="WARNING")
    runtime = build_runtime(settings)
    Accounts(runtime.db).create_user("maria", PASSWORD, "psychologist")
    server = BackgroundServer(create_app(settings, runtime=runtime), startup_timeout=30)
    server._config.lifespan = "on"  # the app's lifespan puts the runtime in app.state
    with server:
        yield server.url, runtime
    runtime.close()


@pytest.fixture
def phone() -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 360, "height": 740}, locale="es-PE")
        yield context.new_page()
        browser.close()


def test_a_message_is_labelled_with_one_tap_at_360_px(
    phone: Page, served: tuple[str, Runtime]
) -> None:
    base, runtime = served
    for n, text in enumerate(("hola", "1", "1", "1", "2", UNSURE)):
        runtime.conversations.handle(Inbound("telegram", CHAT, f"review-{n}", utcnow(), text=text))
    phone.goto(f"{base}/dashboard/review")
    phone.fill("#username", "maria")
    phone.fill("#password", PASSWORD)
    phone.click("button[type=submit]")
    row = phone.locator("#review-pending tbody tr").first
    expect(row).to_contain_text(UNSURE, timeout=SLOW)
    expect(row).to_contain_text(pseudonym_of(runtime, CHAT))
    # Stacked for a phone: nothing wider than the screen.
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, width
    row.get_by_role("button", name="Riesgo", exact=True).click()
    expect(phone.locator(".flash")).to_have_text("Etiqueta guardada.", timeout=SLOW)
    expect(phone.locator("#review-pending")).to_contain_text("Nada por revisar.")
    expect(phone.locator("#review-labelled tbody tr").first).to_contain_text("maria")
    with Session(runtime.db) as session:
        review = session.exec(select(DetectionReview)).one()
        assert (review.label, review.labelled_by) == (1, "maria")
        event = session.exec(select(DashboardEvent).where(DashboardEvent.kind == "review_label"))
        assert event.one().detail["label"] == 1
