"""``python -m tools.simulator_screenshots``: the README's pictures of what a person sees
after a disclosure, in the chat simulator.

A throw-away SQLite database, the real app on 127.0.0.1 (``tools.screenshots``'s
server), Debian's Chromium through Playwright. A fictitious person answers the PHQ-9 with
item 9 = 1 and waits for a psychologist (``docs/screenshots/waiting.png``), then builds a
safety plan (``docs/screenshots/safety_plan.png``). Nothing leaves the machine.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.settings import ROOT
from tools.screenshots import ARGS, CHROMIUM, demo_runtime, say_in_simulator, serving

DISCLOSURE = ["hola", "1", "1", "/phq9", *["0"] * 8, "1"]
WAITING = ["¿cuándo me va a escribir el psicólogo?"]
PLAN = [
    "1",
    "Cuando no duermo y me encierro",
    "Salir a caminar, escuchar música",
    "La casa de mi tía",
    "Mi prima Lucía",
    "PASO",
    "Pedirle a mi hermano que guarde las pastillas",
]


def photograph(url: str, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 480, "height": 900}, locale="es-PE")
        page.goto(f"{url}/simulator")
        for text in DISCLOSURE + WAITING:
            say_in_simulator(page, text)
        page.screenshot(path=str(out / "waiting.png"))
        for text in PLAN:
            say_in_simulator(page, text)
        page.screenshot(path=str(out / "safety_plan.png"))
        browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.simulator_screenshots", description=__doc__
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    with demo_runtime() as runtime, serving(runtime) as base:
        photograph(base, args.out)
    print(f"saved {args.out / 'waiting.png'} and {args.out / 'safety_plan.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
