"""The simulator page still works in Chromium under its Content-Security-Policy (only its
own inline script and style allowed, by hash): no violation, and a message gets replies."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import Engine

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


def test_the_simulator_runs_under_its_policy(db: Engine, database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("one database is enough for a browser check")
    settings = load_settings(database_url=database_url, run_workers_in_server=False)
    runtime = build_runtime(settings, db=db)
    app = create_app(settings, runtime=runtime)
    violations: list[str] = []
    with BackgroundServer(app, options={"lifespan": "on"}) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page()
            page.on(
                "console",
                lambda m: violations.append(m.text) if "Content Security" in m.text else None,
            )
            page.goto(f"{server.url}/simulator")
            page.fill("#text", "hola")
            page.press("#text", "Enter")
            expect(page.locator("#log")).to_contain_text("emergencias", timeout=15_000)
            background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        finally:
            browser.close()
    assert violations == []
    assert background != "rgba(0, 0, 0, 0)"  # the inline style applied
