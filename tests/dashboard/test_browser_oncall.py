"""On-call changes and the simulator's inbox in a real browser (Debian's Chromium through
Playwright) against the real app served by uvicorn with its background loops, on SQLite.
Phone-sized (360 px): nothing may scroll sideways. Every wait is on a condition."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from bot.dashboard.accounts import Accounts
from bot.db.migrate import upgrade
from bot.db.models import utcnow
from bot.runtime import Runtime, build_runtime
from bot.settings import load_settings
from bot.web.app import create_app
from tests.dashboard.test_browser import ARGS, CHROMIUM
from tests.fakes.server import BackgroundServer

PASSWORD = "una frase bastante larga"
SLOW = 30_000
LIMA = ZoneInfo("America/Lima")
PHONE = {"width": 360, "height": 780}
#: Days 08:00-20:00 Ana (Luis backup); nights Monday to Saturday Luis (Carmen backup); the
#: night from Sunday to Monday has nobody: a gap in every 7-day view.
ROSTER = """\
psychologists:
  - {id: ana, name: Ana Quispe, contacts: {telegram_chat_id: 900000201}}
  - {id: luis, name: Luis Mamani, contacts: {telegram_chat_id: 900000202}}
  - {id: carmen, name: Carmen Huamán, contacts: {telegram_chat_id: 900000203}}
  - {id: rosa, name: Rosa Flores, contacts: {telegram_chat_id: 900000204}}
supervisors: [rosa]
shifts:
  - {days: [mon, tue, wed, thu, fri, sat, sun], start: "08:00", end: "20:00",
     primary: ana, backup: luis}
  - {days: [mon, tue, wed, thu, fri, sat], start: "20:00", end: "08:00",
     primary: luis, backup: carmen}
"""

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")


@dataclass
class Stack:
    url: str
    runtime: Runtime


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("oncall-browser")
    roster = folder / "oncall.yaml"
    roster.write_text(ROSTER, encoding="utf-8")
    url = f"sqlite:///{folder / 'dashboard.db'}"
    upgrade(url)
    settings = load_settings(
        database_url=url, oncall_file=roster, run_workers_in_server=True, log_level="WARNING"
    )
    runtime = build_runtime(settings)
    accounts = Accounts(runtime.db)
    accounts.create_user("rosa", PASSWORD, "supervisor", psychologist_id="rosa")
    accounts.create_user("ana", PASSWORD, "psychologist", psychologist_id="ana")
    server = BackgroundServer(create_app(settings, runtime=runtime), startup_timeout=30)
    server._config.lifespan = "on"  # the app's lifespan starts the background loops
    with server:
        yield Stack(server.url, runtime)
    runtime.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, locale="es-PE")
    tab = context.new_page()
    yield tab
    context.close()


def sign_in(page: Page, stack: Stack, username: str) -> None:
    page.goto(f"{stack.url}/dashboard/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Casos abiertos", timeout=SLOW)


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide at {PHONE['width']} px"


def local_form_time(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M")


def test_a_psychologist_sees_the_coverage_but_cannot_change_it(phone: Page, stack: Stack) -> None:
    sign_in(phone, stack, "ana")
    phone.goto(f"{stack.url}/dashboard/oncall")
    expect(phone.locator("h1")).to_have_text("Cambios de guardia")
    expect(phone.locator("#coverage li.gap").first).to_contain_text("Sin principal de turno")
    expect(phone.locator("#cover-form")).to_have_count(0)
    no_sideways_scroll(phone)
    token = phone.locator("input[name=csrf_token]").first.get_attribute("value")
    refused = phone.request.post(
        f"{stack.url}/dashboard/oncall/away",
        form={
            "csrf_token": token or "",
            "psychologist_id": "luis",
            "start": "2030-01-01T20:00",
            "end": "2030-01-02T08:00",
        },
    )
    assert refused.status == 403


def test_a_supervisor_covers_fills_a_gap_and_undoes_on_a_phone(phone: Page, stack: Stack) -> None:
    sign_in(phone, stack, "rosa")
    phone.goto(f"{stack.url}/dashboard/oncall")
    gaps = phone.locator("#coverage li.gap")
    expect(gaps.first).to_be_visible()
    gaps_before = gaps.count()
    no_sideways_scroll(phone)

    # Carmen covers Ana tomorrow from 08:00 to 20:00
    tomorrow = utcnow().astimezone(LIMA).replace(tzinfo=None).date() + timedelta(days=1)
    day_start = datetime.combine(tomorrow, datetime.min.time()) + timedelta(hours=8)
    phone.select_option("#cover-who", "carmen")
    phone.select_option("#cover-whom", "ana")
    phone.fill("#cover-start", local_form_time(day_start))
    phone.fill("#cover-end", local_form_time(day_start + timedelta(hours=12)))
    phone.fill("#cover-note", "Ana en capacitación")
    phone.get_by_role("button", name="Guardar la cobertura").click()
    expect(phone.locator(".flash")).to_contain_text("Cambio guardado", timeout=SLOW)
    changes = phone.locator("#changes li")
    expect(changes.first).to_contain_text("Carmen Huamán cubre a Ana Quispe")
    expect(phone.locator("#coverage")).to_contain_text("Principal: Carmen Huamán")
    no_sideways_scroll(phone)

    # a change refused names the field and the reason, and keeps the page usable
    phone.select_option("#away-who", "luis")
    phone.fill("#away-start", "2020-01-01T20:00")
    phone.fill("#away-end", "2020-01-02T08:00")
    phone.get_by_role("button", name="Marcar no disponible").click()
    expect(phone.locator(".flash.error")).to_contain_text("Hasta: Ese periodo ya terminó.")
    no_sideways_scroll(phone)

    # Carmen as primary over the next Sunday night: one gap fewer
    first_gap = gaps.first.locator(".when").inner_text()
    start_text = first_gap.split(" – ")[0].split(" ", 1)[1]  # "dd/mm HH:MM"
    now_local = utcnow().astimezone(LIMA).replace(tzinfo=None)
    gap_start = datetime.strptime(f"{now_local.year}/{start_text}", "%Y/%d/%m %H:%M")
    if gap_start < now_local - timedelta(days=1):
        gap_start = gap_start.replace(year=now_local.year + 1)
    phone.select_option("#cover-who", "carmen")
    phone.select_option("#cover-whom", "")
    phone.fill("#cover-start", local_form_time(max(gap_start, now_local)))
    phone.fill("#cover-end", local_form_time(gap_start + timedelta(hours=12)))
    phone.get_by_role("button", name="Guardar la cobertura").click()
    expect(phone.locator(".flash")).to_contain_text("Cambio guardado", timeout=SLOW)
    expect(gaps).to_have_count(gaps_before - 1)

    # undo the first change: it leaves the list, the history keeps both steps
    changes.filter(has_text="cubre a Ana Quispe").get_by_role("button", name="Deshacer").click()
    expect(phone.locator(".flash")).to_contain_text("Cambio deshecho", timeout=SLOW)
    expect(changes.filter(has_text="cubre a Ana Quispe")).to_have_count(0)
    history = phone.locator("#history")
    expect(history).to_contain_text("Deshecho")
    expect(history).to_contain_text("dashboard:rosa")
    expect(history).to_contain_text(
        "Antes: Carmen Huamán (+ Luis Mamani) → después: Ana Quispe (+ Luis Mamani)"
    )
    no_sideways_scroll(phone)


def test_the_simulator_shows_the_psychologists_message(browser: Browser, stack: Stack) -> None:
    person = browser.new_context(viewport=PHONE, locale="es-PE")
    staff = browser.new_context(viewport={"width": 1280, "height": 900}, locale="es-PE")
    try:
        chat = person.new_page()
        chat.goto(f"{stack.url}/simulator")
        for text in ("hola", "1", "1", "me quiero matar"):
            count = chat.locator(".msg.bot").count()
            chat.fill("#text", text)
            chat.press("#text", "Enter")
            expect(chat.locator(".msg.bot")).not_to_have_count(count, timeout=SLOW)

        desk = staff.new_page()
        sign_in(desk, stack, "ana")
        rows = desk.locator("#queue-rows tr[data-case]")
        expect(rows.first).to_be_visible(timeout=SLOW)
        rows.first.get_by_role("button", name="Asumir caso").click()
        expect(desk.locator("#case-status")).to_have_text("Asumido", timeout=SLOW)
        desk.fill("#reply", "Hola, soy Ana, psicóloga del programa. ¿Estás a salvo ahora?")
        desk.get_by_role("button", name="Enviar").click()
        expect(desk.locator("#case-status")).to_have_text("En conversación", timeout=SLOW)

        staff_message = chat.locator(".msg.staff")
        expect(staff_message).to_contain_text("¿Estás a salvo ahora?", timeout=SLOW)
        no_sideways_scroll(chat)
        desk.reload()
        expect(desk.locator("#messages .msg.staff")).to_contain_text("entregado", timeout=SLOW)
    finally:
        person.close()
        staff.close()
