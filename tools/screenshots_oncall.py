"""``python -m tools.screenshots_oncall``: pictures of the on-call changes page and of
the simulator receiving a psychologist's message, on a phone (360 px).

Like :mod:`tools.screenshots`: a throw-away SQLite database, the example roster
(``config/oncall.yaml``, fictitious people), changes made through :mod:`bot.escalation.oncall.edit`,
the app on 127.0.0.1, Debian's Chromium through Playwright. Saves
``docs/screenshots/oncall.png`` and ``simulator.png``. Nothing leaves the machine.
"""

from __future__ import annotations

import argparse
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot.dashboard.accounts import Accounts
from bot.escalation import service
from bot.escalation.oncall import edit
from bot.runtime import Runtime
from bot.settings import ROOT
from bot.worker import escalation_round
from tools.screenshots import ARGS, CHROMIUM, demo_runtime, say_in_simulator, serving

if TYPE_CHECKING:
    from playwright.sync_api import ViewportSize

USER, PASSWORD = "rosa", "demo-password-not-for-use"
PHONE: ViewportSize = {"width": 360, "height": 780}


def seed_changes(runtime: Runtime) -> None:
    """Both people on call tomorrow night are away (ill, on holiday): a gap; Rosa covers
    the primary of the day after."""
    esc = runtime.escalation
    roster = esc.roster_source.require()
    today = esc.clock().astimezone(roster.zone).date()
    night = datetime.combine(today + timedelta(days=1), time(21, 0))
    team = roster.on_call(night.replace(tzinfo=roster.zone))
    for who, note in zip((*team.primary, *team.backup), ("enfermo(a)", "vacaciones"), strict=False):
        req = edit.request(
            kind="away", psychologist_id=who, start=night, end=night + timedelta(hours=10),
            note=note,
        )  # fmt: skip
        edit.add(esc, req, "dashboard:rosa")
    day = datetime.combine(today + timedelta(days=2), time(9, 0))
    [covered, *_] = roster.on_call(day.replace(tzinfo=roster.zone)).primary
    req = edit.request(
        kind="cover", psychologist_id="rosa", covers=covered, start=day,
        end=day + timedelta(hours=9), note="capacitación",
    )  # fmt: skip
    edit.add(esc, req, "telegram:rosa")


def photograph(url: str, runtime: Runtime, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport=PHONE, locale="es-PE")
        page.goto(f"{url}/dashboard/login")
        page.fill("#username", USER)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("#queue-rows")
        page.goto(f"{url}/dashboard/oncall")
        page.wait_for_selector("#coverage li")
        page.screenshot(path=str(out / "oncall.png"), full_page=True)

        chat = browser.new_page(viewport=PHONE, locale="es-PE")
        chat.goto(f"{url}/simulator")
        for text in ("hola", "1", "1", "me quiero matar", "1"):
            say_in_simulator(chat, text)
        escalation_round(runtime)  # as the worker does: the chain and the check-ins
        [case] = service.open_cases(runtime.db)
        service.send_to_person(
            runtime.escalation, case.id or 0, "ana",
            "Hola, soy Ana, psicóloga del programa. Leí tu mensaje. ¿Estás en un lugar seguro "
            "ahora?",
        )  # fmt: skip
        chat.wait_for_selector(".msg.staff", timeout=30_000)
        chat.screenshot(path=str(out / "simulator.png"))
        browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.screenshots_oncall", description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    with demo_runtime() as runtime:
        Accounts(runtime.db).create_user(USER, PASSWORD, "supervisor", psychologist_id="rosa")
        seed_changes(runtime)
        with serving(runtime) as base:
            photograph(base, runtime, args.out)
    print(f"saved {args.out / 'oncall.png'} and {args.out / 'simulator.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
