"""End to end: Telegram updates at the webhook → inbox step → escalation → outbox →
dispatcher → the fake Bot API, with a controllable clock (nothing waits for a timeout)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.escalation.models import Case
from bot.settings import Settings
from tests.escalation.stack import Stack, running_stack
from tests.escalation.support import ANA, LUIS, PERSON, write_roster
from tests.fakes import fixtures
from tests.fakes.telegram_api import FakeTelegramApi
from tests.web.webhooks_support import (
    callback_update,
    make_settings,
    text_update,
)

telegram_api = fixtures.telegram_api
loopback_only = fixtures.loopback_only
STRANGER = 777_000


def settings_for(database_url: str, roster: Path, api: FakeTelegramApi) -> Settings:
    return make_settings(database_url, oncall_file=roster, telegram_api_base_url=api.base_url)


@pytest.fixture
async def stack(
    db: Engine,
    database_url: str,
    tmp_path: Path,
    telegram_api: FakeTelegramApi,
    loopback_only: object,
) -> AsyncIterator[Stack]:
    settings = settings_for(database_url, write_roster(tmp_path / "oncall.yaml"), telegram_api)
    async with running_stack(settings, db, telegram_api) as running:
        yield running


async def test_phq9_item9_alerts_the_on_call_chat_and_acknowledge_works(stack: Stack) -> None:
    await stack.say(PERSON, "hola", "1", "1", "1", *["0"] * 8, "1")
    await stack.settle()
    [case] = stack.desk.cases()
    [alert] = stack.sent_to(ANA)
    assert f"Caso #{case.id}" in alert["text"] and "ALTA" in alert["text"]
    keyboard = alert["reply_markup"]["inline_keyboard"]
    assert [row[0]["callback_data"] for row in keyboard] == [
        f"case:ack:{case.id}",
        f"case:res:{case.id}",
    ]
    # Ana presses Acknowledge: the press is answered and the case is hers.
    response = await stack.post(callback_update(ANA, f"case:ack:{case.id}", "q-ana-1"))
    await stack.settle()
    assert stack.desk.case().status == "acknowledged"
    assert stack.desk.case().acknowledged_by == "ana"
    assert response.json() == {"method": "answerCallbackQuery", "callback_query_id": "q-ana-1"}
    assert "lo atiendes tú" in stack.sent_to(ANA)[-1]["text"]
    # The person got the safety message with the crisis lines, never a staff text.
    person_texts = " ".join(m["text"] for m in stack.sent_to(PERSON))
    assert "113" in person_texts and "Caso #" not in person_texts


async def test_crisis_words_mid_phq9_reply_with_lines_and_alert_quoting(stack: Stack) -> None:
    await stack.say(PERSON, "hola", "1", "1", "1", "2", "1")
    await stack.say(PERSON, "ya no puedo más, me quiero matar")
    await stack.settle()
    last_reply = stack.sent_to(PERSON)[-2]["text"]
    assert "113" in last_reply and "106" in last_reply
    await stack.say(PERSON, "1")  # the acuity question: yes
    await stack.settle()
    case = stack.desk.case()
    assert case.priority == "imminent"
    alerts = [m["text"] for m in stack.sent_to(ANA)]
    assert "INMINENTE" in alerts[-1]
    assert "«ya no puedo más, me quiero matar»" in alerts[-1]


async def test_a_press_from_a_chat_not_on_the_roster_is_refused(stack: Stack) -> None:
    await stack.say(PERSON, "hola", "1", "1", "me quiero matar")
    await stack.settle()
    case_id = stack.desk.case().id
    for payload in (f"case:ack:{case_id}", f"case:res:{case_id}:false_alarm"):
        await stack.post(callback_update(STRANGER, payload, f"q-{payload}"))
    await stack.say(STRANGER, f"/ack {case_id}")
    await stack.settle()
    case = stack.desk.case()
    assert (case.status, case.acknowledged_by) == ("open", None)
    refusals = [m["text"] for m in stack.sent_to(STRANGER)]
    assert sum("no está en la lista de guardia" in t for t in refusals) == 2
    assert stack.desk.events(case_id or 0).count("refused") == 2
    # The typed command went to the conversation engine like any other text.
    assert any("no está en la lista" not in t for t in refusals)


async def test_a_duplicated_webhook_makes_one_case(stack: Stack) -> None:
    await stack.say(PERSON, "hola", "1", "1")
    update = text_update(PERSON, "me quiero matar")
    await stack.post(update)
    await stack.post(update)
    await stack.settle()
    assert len(stack.desk.cases()) == 1
    assert len(stack.sent_to(ANA)) == 1


async def test_no_ack_pages_on_then_ack_stops_and_resolve_closes(stack: Stack) -> None:
    await stack.say(PERSON, "hola", "1", "1", "1", *["0"] * 8, "1")  # high: 5 min waits
    await stack.settle()
    assert (len(stack.sent_to(ANA)), len(stack.sent_to(LUIS))) == (1, 0)
    stack.clock.advance(minutes=4, seconds=59)
    await stack.settle()
    assert len(stack.sent_to(ANA)) == 1
    stack.clock.advance(seconds=1)
    await stack.settle()
    assert (len(stack.sent_to(ANA)), len(stack.sent_to(LUIS))) == (2, 1)
    case_id = stack.desk.case().id
    await stack.say(LUIS, f"/ack {case_id}")
    await stack.settle()
    stack.clock.advance(minutes=30)
    await stack.settle()
    assert len(stack.sent_to(ANA)) == 3  # told once that Luis has it; no more alerts
    assert "Luis Test" in stack.sent_to(ANA)[-1]["text"]
    await stack.say(LUIS, f"/resolve {case_id} contacted Hablamos, tiene cita en su CSMC")
    await stack.settle()
    case: Case = stack.desk.case()
    assert (case.status, case.outcome, case.note) == (
        "resolved",
        "contacted",
        "Hablamos, tiene cita en su CSMC",
    )
    assert "cerrado" in stack.sent_to(LUIS)[-1]["text"]
