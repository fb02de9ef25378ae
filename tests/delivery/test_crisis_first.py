"""Crisis replies first, per person: the crisis lines never wait behind an earlier ordinary
message to the same person that is hanging or failing, and a hung platform call holds an
alert or a crisis reply for a few seconds at most (the fake Bot API made to hang)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.channels.telegram.sender import TelegramSender
from bot.content import load_content
from bot.db.models import utcnow
from bot.delivery.claims import URGENT_PURPOSES
from bot.delivery.dispatcher import SEND_DEADLINE
from bot.escalation.crisis import crisis_detector
from bot.flows import ConversationService, Inbound
from bot.flows import Engine as FlowEngine
from bot.outbox.enums import Purpose
from tests.delivery.support import CIPHER, FAST, add_person, dispatcher, outbox, queue
from tests.fakes import fixtures
from tests.fakes.loopback import LoopbackGuard
from tests.fakes.telegram_api import FakeTelegramApi

telegram_api = fixtures.telegram_api
loopback_only = fixtures.loopback_only

A, PSYCHOLOGIST = "1001", "2002"
HANG = 60.0
CONFIG = Path(__file__).resolve().parents[2] / "config"


@pytest.fixture
async def telegram(
    telegram_api: FakeTelegramApi, loopback_only: LoopbackGuard
) -> AsyncIterator[TelegramSender]:
    sender = TelegramSender(telegram_api.token, telegram_api.base_url)  # default timeouts
    sender.limits = FAST
    yield sender
    await sender.close()


def texts_to(api: FakeTelegramApi, chat: str) -> list[str]:
    return [
        c.params["text"]
        for c in api.calls("sendMessage")
        if c.params["chat_id"] == int(chat) and c.status == 200
    ]


def test_the_crisis_lines_are_queued_as_a_crisis_reply(db: Engine) -> None:
    engine = FlowEngine(load_content(CONFIG), detect_crisis=crisis_detector(CONFIG / "crisis"))
    service = ConversationService(db, engine, CIPHER)
    for n, text in enumerate(("hola", "1", "1", "hoy me quiero matar, no aguanto más")):
        service.handle(
            Inbound(
                channel="telegram",
                external_id=A,
                provider_message_id=f"c{n}",
                received_at=datetime.now(UTC),
                text=text,
            )
        )
    purposes = [row.purpose for row in outbox(db)]
    assert purposes[-2:] == [Purpose.CRISIS, "reply"]  # the lines, then the safety question
    assert Purpose.CRISIS not in purposes[:-2]


async def test_a_crisis_reply_overtakes_a_hung_message_to_the_same_person(
    db: Engine, telegram: TelegramSender, telegram_api: FakeTelegramApi
) -> None:
    person = add_person(db, "telegram", A)
    queue(db, "telegram", A, ["una pregunta"], participant_id=person, at=utcnow())
    telegram_api.delay_next("sendMessage", HANG, chat_id=A)
    # As the service runs: the outbox loop, and the alert loop for urgent purposes.
    main = dispatcher(db, {"telegram": telegram})
    alerts = dispatcher(db, {"telegram": telegram}, purposes=URGENT_PURPOSES)
    main_round = asyncio.create_task(main.tick())
    await asyncio.sleep(0.5)  # the question is in flight, hanging
    queue(
        db,
        "telegram",
        A,
        ["líneas de crisis"],
        participant_id=person,
        at=utcnow(),
        purpose=Purpose.CRISIS,
    )
    queue(db, "telegram", A, ["¿estás a salvo?"], participant_id=person, at=utcnow())

    started = time.monotonic()
    assert await alerts.tick() == 1
    assert time.monotonic() - started < 2.0
    sent = texts_to(telegram_api, A)  # (the hung call is logged when it arrives)
    assert "líneas de crisis" in sent and "¿estás a salvo?" not in sent
    # The ordinary message after it still waits for the hung one (order kept for them).
    assert await alerts.tick() == 0

    # The hung call is abandoned within the send deadline, then retried.
    await asyncio.wait_for(main_round, SEND_DEADLINE + 2.0)
    assert time.monotonic() - started < SEND_DEADLINE + 2.0
    [hung] = [r for r in outbox(db) if r.text == "una pregunta"]
    assert hung.status == "pending" and hung.error and "timeout" in hung.error.lower()


async def test_a_hung_call_delays_the_next_alert_by_a_few_seconds_at_most(
    db: Engine, telegram: TelegramSender, telegram_api: FakeTelegramApi
) -> None:
    queue(
        db,
        "telegram",
        PSYCHOLOGIST,
        ["alerta 1"],
        participant_id=None,
        purpose="alert",
        at=utcnow(),
    )
    telegram_api.delay_next("sendMessage", HANG, chat_id=PSYCHOLOGIST)
    alerts = dispatcher(db, {"telegram": telegram}, purposes=URGENT_PURPOSES)
    started = time.monotonic()
    await alerts.tick()
    assert time.monotonic() - started < SEND_DEADLINE + 1.0 <= 6.0
    queue(db, "telegram", "3003", ["alerta 2"], participant_id=None, purpose="alert", at=utcnow())
    await alerts.tick()
    assert texts_to(telegram_api, "3003") == ["alerta 2"]
    assert time.monotonic() - started < SEND_DEADLINE + 2.0


async def test_a_crisis_reply_does_not_wait_for_an_earlier_message_backing_off(
    db: Engine, telegram: TelegramSender, telegram_api: FakeTelegramApi
) -> None:
    person = add_person(db, "telegram", A)
    queue(db, "telegram", A, ["una pregunta"], participant_id=person, at=utcnow())
    telegram_api.fail_next("sendMessage", 502, times=None, chat_id=A)
    main = dispatcher(db, {"telegram": telegram})
    assert await main.tick() == 1  # failed: retried after a backoff
    telegram_api.clear_faults()
    queue(
        db,
        "telegram",
        A,
        ["líneas de crisis"],
        participant_id=person,
        at=utcnow(),
        purpose=Purpose.CRISIS,
    )
    alerts = dispatcher(db, {"telegram": telegram}, purposes=URGENT_PURPOSES)
    assert await alerts.tick() == 1
    assert texts_to(telegram_api, A) == ["líneas de crisis"]
