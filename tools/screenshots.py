"""``python -m tools.screenshots``: the README's pictures of the dashboard.

Builds a throw-away SQLite database with demo people who talk to the bot through the real
conversation service, turns their risk signals into cases with the real escalation code
(at realistic times in the past), serves the dashboard with uvicorn on 127.0.0.1, signs in
with Debian's Chromium (Playwright) and saves ``docs/screenshots/queue.png`` and
``case.png``, plus ``case-notes.png`` (internal notes), ``transfer.png`` (handing a case
over) and the queue and a case on a 360 px phone (``queue-phone.png``, ``case-phone.png``).
Every person and psychologist is fictitious. Nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.dashboard import notes
from bot.dashboard.accounts import Accounts
from bot.db.migrate import upgrade
from bot.db.models import OutboundMessage, utcnow
from bot.escalation import service, timers
from bot.escalation.context import build_escalation
from bot.escalation.hooks import EscalationHooks
from bot.escalation.models import Case
from bot.flows import ConversationService, Inbound
from bot.outbox.enums import OutboxStatus
from bot.runtime import Runtime, build_runtime
from bot.settings import ROOT, load_settings
from bot.web.app import create_app

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]  # fmt: skip
USER, PASSWORD = "ana", "demo-password-not-for-use"
_ids = itertools.count(1)


class DemoClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def seed(runtime: Runtime) -> int:
    """Demo people and cases; returns the id of the case to photograph."""
    real_now = utcnow()
    clock = DemoClock(real_now - timedelta(hours=2, minutes=10))
    esc = build_escalation(runtime.settings, runtime.db, runtime.cipher, clock=clock)
    talk = ConversationService(
        runtime.db, runtime.conversations.flow, runtime.cipher, clock=clock,
        hooks=EscalationHooks(esc),
    )  # fmt: skip

    def say(channel: str, who: str, *texts: str) -> None:
        for text in texts:
            clock.now += timedelta(seconds=20)
            talk.handle(Inbound(channel, who, f"demo-{next(_ids)}", clock.now, text))

    def at(minutes_ago: float) -> None:
        clock.now = real_now - timedelta(minutes=minutes_ago)
        timers.tick(esc)

    # 2 h ago, on WhatsApp: a PHQ-9 of 19 with item 9 = 2 (high); Ana takes it and writes.
    whatsapp = "whatsapp:+15555550188"
    say("whatsapp", whatsapp, "hola", "1", "1", "1", "2", "3", "2", "2", "2", "3", "2", "1", "2")
    at(128)
    case_id = _case_of(runtime, "high")
    at(121)
    service.acknowledge(esc, case_id, "ana")
    at(118)
    service.send_to_person(
        esc, case_id, "ana",
        "Hola, soy Ana, psicóloga del programa. Leí tus respuestas y quiero saber cómo estás. "
        "¿Estás en un lugar seguro ahora?",
    )  # fmt: skip
    say("whatsapp", whatsapp, "Sí, estoy en mi casa con mi hermana. Gracias por escribir.")
    at(112)
    service.send_to_person(
        esc, case_id, "ana",
        "Me alegra que estés acompañada. ¿Te parece si te busco una cita en el Centro de "
        "Salud Mental Comunitario de tu distrito esta semana?",
    )  # fmt: skip
    say("whatsapp", whatsapp, "Sí, me parece bien. Puedo ir el jueves en la tarde.")
    notes.add(
        runtime.db, esc, case_id, "ana",
        "Vive con su hermana, que es su apoyo. Cita en el CSMC el jueves por la tarde; "
        "llamar el viernes para confirmar que fue.",
    )  # fmt: skip
    # 40 min ago, on Telegram: GAD-7 of 18 (routine).
    at(44)
    say("telegram", "700000031", "hola", "1", "1", "2", "3", "2", "3", "2", "3", "2", "3")
    at(40)
    # 25 min ago: asks to talk to a psychologist (routine).
    say("telegram", "700000032", "hola", "1", "1", "4")
    at(24)
    # 7 min ago: crisis words in free text (high), then 3 min ago mid-PHQ-9 with "yes, now".
    say("telegram", "700000033", "hola", "1", "1", "ya no aguanto más, quiero morirme", "0")
    at(7)
    say("telegram", "700000034", "hola", "1", "1", "1", "2", "3", "me quiero matar", "1")
    at(3)
    # 2 min ago: asks to talk to a psychologist, then erases their data at once.
    say("telegram", "700000035", "hola", "1", "1", "4", "borrar", "1")
    at(0.2)
    with Session(runtime.db) as session:  # demo only: show the messages as delivered
        session.execute(
            update(OutboundMessage)
            .where(col(OutboundMessage.status) == OutboxStatus.PENDING)
            .values(status=OutboxStatus.SENT, sent_at=OutboundMessage.created_at)
        )
        session.commit()
    timers.settle_notifications(esc)  # …and the alerts among them as delivered
    return case_id


def _case_of(runtime: Runtime, priority: str) -> int:
    with Session(runtime.db) as session:
        case = session.exec(select(Case).where(Case.priority == priority)).first()
    if case is None or case.id is None:
        raise RuntimeError(f"the demo expected a {priority} case")
    return case.id


def say_in_simulator(page: Any, text: str) -> None:
    """Type ``text`` into the simulator page and wait for the bot's next reply."""
    before = page.locator(".msg.bot").count()
    page.fill("#text", text)
    page.press("#text", "Enter")
    # A locator wait, not a JavaScript predicate: the simulator's policy forbids eval.
    page.locator(".msg.bot").nth(before).wait_for(timeout=30_000)


@contextmanager
def demo_runtime(**settings: Any) -> Iterator[Runtime]:
    """A runtime on a fresh SQLite database in a throw-away folder, background loops off
    (``settings``: any more settings, such as demo channel credentials)."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'demo.db'}"
        upgrade(url)
        runtime = build_runtime(
            load_settings(
                database_url=url, run_workers_in_server=False, log_level="WARNING", **settings
            )
        )
        try:
            yield runtime
        finally:
            runtime.close()


@contextmanager
def serving(runtime: Runtime) -> Iterator[str]:
    """The app on 127.0.0.1 and a free port, in a thread (background loops off)."""
    config = uvicorn.Config(
        create_app(runtime.settings, runtime=runtime), host="127.0.0.1", port=0,
        log_level="warning", access_log=False, lifespan="on",
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the dashboard did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def photograph(url: str, case_id: int, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 760}, locale="es-PE")
        page.goto(f"{url}/dashboard/login")
        page.fill("#username", USER)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("#queue-rows tr[data-case]")
        page.screenshot(path=str(out / "queue.png"))
        page.goto(f"{url}/dashboard/cases/{case_id}")
        page.wait_for_selector("#messages .msg.staff")
        page.set_viewport_size({"width": 1280, "height": 1400})
        page.screenshot(path=str(out / "case.png"))
        page.locator("#notes").screenshot(path=str(out / "case-notes.png"))
        page.select_option("#colleague", "luis")
        page.fill("#transfer-note", "Sigue tú esta noche, por favor: ya aceptó la cita.")
        page.locator("#transfer").screenshot(path=str(out / "transfer.png"))
        phone = browser.new_page(viewport={"width": 360, "height": 740}, locale="es-PE")
        cookies = page.context.cookies()
        # Playwright's Cookie is what add_cookies takes, but its SetCookieParam TypedDict
        # spells the same keys Optional, which mypy does not accept as compatible.
        phone.context.add_cookies(cookies)  # type: ignore[arg-type]
        phone.goto(f"{url}/dashboard")
        phone.wait_for_selector("#queue-rows tr[data-case]")
        phone.screenshot(path=str(out / "queue-phone.png"))
        phone.goto(f"{url}/dashboard/cases/{case_id}")
        phone.wait_for_selector("#messages .msg.staff")
        phone.screenshot(path=str(out / "case-phone.png"))
        browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.screenshots", description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    with demo_runtime(
        telegram_bot_token="123456:demo-token-never-used", twilio_account_sid="ACdemo",
        twilio_auth_token="demo", twilio_whatsapp_from="whatsapp:+15555550100",
    ) as runtime:  # fmt: skip
        Accounts(runtime.db).create_user(USER, PASSWORD, "admin", psychologist_id="ana")
        case_id = seed(runtime)
        with serving(runtime) as base:
            photograph(base, case_id, args.out)
    print(f"saved the dashboard's screenshots in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
