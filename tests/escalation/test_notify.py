"""Alerts: what they say, and Telegram → WhatsApp → SMS when a channel fails."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.channels.registry import build_senders
from bot.channels.twilio.receipts import Receipt, record
from bot.delivery.claims import URGENT_PURPOSES
from bot.delivery.dispatcher import Dispatcher
from bot.escalation import notify
from bot.escalation.models import CaseNotification
from tests.delivery.support import FAST
from tests.escalation.support import ANA, PERSON, ROSTER, Clock, Desk, make_settings, write_roster
from tests.fakes import fixtures
from tests.fakes.telegram_api import FakeTelegramApi
from tests.fakes.twilio_api import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, FakeTwilioApi

telegram_api = fixtures.telegram_api
twilio_api = fixtures.twilio_api
loopback_only = fixtures.loopback_only
ANA_PHONE = "+15555550101"


def test_the_alert_names_priority_reason_quote_waiting_and_case(desk: Desk) -> None:
    desk.to_menu()
    desk.say(PERSON, "hola... hoy me quiero matar, ya no aguanto")
    desk.tick()
    case = desk.case()
    desk.clock.advance(minutes=5)  # the next alert says how long the person has waited
    desk.tick()
    first, second = desk.new_alerts()[ANA][:2]
    label = desk.runtime.escalation.texts.get("es").priority[case.priority]
    assert first.splitlines()[0] == f"{label} · Caso #{case.id}"
    assert "«hola... hoy me quiero matar, ya no aguanto»" in first
    assert "me quiero matar" in first.splitlines()[1]  # the phrase that matched
    assert "Esperando: 0 min" in first and "Esperando: 5 min" in second
    assert f"/ack {case.id}" in first
    assert case.snapshot["quote"] == "hola... hoy me quiero matar, ya no aguanto"


def test_a_psychologist_with_no_usable_contact_is_logged_not_skipped(
    db: Engine, database_url: str, tmp_path: Path, clock: Clock
) -> None:
    people = [
        *ROSTER["psychologists"],
        {"id": "eva", "name": "Eva", "contacts": {"sms": ANA_PHONE}},
    ]
    roster = write_roster(tmp_path / "r.yaml", {"psychologists": people})
    desk = Desk.build(make_settings(database_url, roster), db, clock)  # Telegram only
    desk.to_menu()
    desk.say(PERSON, "me quiero matar")
    desk.tick()
    case_id = desk.case().id or 0
    assert desk.events(case_id).count("notified") == 3
    assert desk.events(case_id).count("notify_failed") == 1


async def test_a_failed_telegram_alert_falls_back_to_sms(
    db: Engine,
    database_url: str,
    tmp_path: Path,
    clock: Clock,
    telegram_api: FakeTelegramApi,
    twilio_api: FakeTwilioApi,
    loopback_only: object,
) -> None:
    ana = {"id": "ana", "name": "Ana", "contacts": {"telegram_chat_id": ANA, "sms": ANA_PHONE}}
    roster = write_roster(tmp_path / "r.yaml", {"psychologists": [ana]})
    settings = make_settings(
        database_url,
        roster,
        telegram_api_base_url=telegram_api.base_url,
        twilio_account_sid=DEFAULT_ACCOUNT_SID,
        twilio_auth_token=DEFAULT_AUTH_TOKEN,
        twilio_sms_from="+15005550006",
        twilio_api_base_url=twilio_api.url,
    )
    desk = Desk.build(settings, db, clock)
    senders = build_senders(settings)
    assert sorted(senders) == ["sms", "telegram"]
    for sender in senders.values():
        sender.limits = FAST
    dispatcher = Dispatcher(db, desk.runtime.cipher, senders, clock=clock)
    telegram_api.block(ANA)  # Ana blocked the bot (or deleted her account)
    try:
        desk.to_menu()
        desk.say(PERSON, "me quiero matar")
        desk.tick()
        await dispatcher.tick()
        assert [
            c.status for c in telegram_api.calls("sendMessage") if c.params["chat_id"] == ANA
        ] == [403]
        assert desk.tick().settled == 1  # failure recorded, SMS queued
        await dispatcher.tick()
    finally:
        await dispatcher.close()
    [sms] = twilio_api.calls("messages.create")
    case_id = desk.case().id
    assert sms.params["To"] == ANA_PHONE and sms.params["From"] == "+15005550006"
    assert f"Caso #{case_id}" in sms.params["Body"] and "/reply" not in sms.params["Body"]
    desk.tick()
    with Session(db) as session:
        rows = session.exec(select(CaseNotification).order_by(CaseNotification.id)).all()
    assert [(n.channel, n.status) for n in rows] == [("telegram", "failed"), ("sms", "sent")]
    assert rows[0].fallback_id == rows[1].id
    events = desk.events(case_id or 0)
    assert events.count("notify_failed") == 1 and events.count("delivered") == 1


async def test_an_alert_reported_undelivered_after_sending_falls_back_to_sms(
    db: Engine,
    database_url: str,
    tmp_path: Path,
    clock: Clock,
    twilio_api: FakeTwilioApi,
    loopback_only: object,
) -> None:
    """Twilio accepted the WhatsApp alert, then its status callback said undelivered."""
    ana = {"id": "ana", "name": "Ana", "contacts": {"whatsapp": ANA_PHONE, "sms": ANA_PHONE}}
    roster = write_roster(tmp_path / "r.yaml", {"psychologists": [ana]})
    settings = make_settings(
        database_url,
        roster,
        twilio_account_sid=DEFAULT_ACCOUNT_SID,
        twilio_auth_token=DEFAULT_AUTH_TOKEN,
        twilio_whatsapp_from="+14155238886",
        twilio_sms_from="+15005550006",
        twilio_api_base_url=twilio_api.url,
        twilio_template_alert_sid="HX" + "a1" * 16,  # Ana has never written: a template
    )
    desk = Desk.build(settings, db, clock)
    senders = build_senders(settings)
    for sender in senders.values():
        sender.limits = FAST
    dispatcher = Dispatcher(db, desk.runtime.cipher, senders, clock=clock)
    try:
        desk.to_menu()
        desk.say(PERSON, "me quiero matar")
        desk.tick()
        await dispatcher.tick()
        [whatsapp] = twilio_api.calls("messages.create")
        assert whatsapp.params["To"] == f"whatsapp:{ANA_PHONE}"
        assert desk.tick().settled == 1  # accepted by Twilio: recorded as delivered
        assert desk.tick().settled == 0

        [sid] = twilio_api.messages
        assert record(db, Receipt(sid, "undelivered", 63024), clock()) == "failed"
        assert desk.tick().settled == 1  # the late failure: SMS queued
        await dispatcher.tick()
    finally:
        await dispatcher.close()
    sms = twilio_api.calls("messages.create")[1]
    assert sms.params["To"] == ANA_PHONE and "Body" in sms.params
    desk.tick()
    with Session(db) as session:
        rows = session.exec(select(CaseNotification).order_by(CaseNotification.id)).all()
    assert [(n.channel, n.status) for n in rows] == [("whatsapp", "failed"), ("sms", "sent")]
    assert rows[0].fallback_id == rows[1].id
    events = desk.events(desk.case().id or 0)
    assert events.count("notify_failed") == 1


def test_payloads_fit_telegram_callback_data() -> None:
    longest = notify.payload("res", 10**12 - 1, "emergency_services")
    assert len(longest.encode()) <= 64


async def test_the_alert_dispatcher_sends_alerts_first_and_only_alerts(
    desk: Desk, telegram_api: FakeTelegramApi, loopback_only: object
) -> None:
    settings = desk.runtime.settings.model_copy(
        update={"telegram_api_base_url": telegram_api.base_url}
    )
    desk.to_menu()  # three replies queued for the person
    desk.say(PERSON, "me quiero matar")
    desk.tick()  # and an alert for Ana
    senders = build_senders(settings)
    alerts_only = Dispatcher(
        desk.db, desk.runtime.cipher, senders, clock=desk.clock, purposes=URGENT_PURPOSES
    )
    try:
        assert await alerts_only.tick() == 1
        assert await alerts_only.tick() == 0
    finally:
        await alerts_only.close()
    [call] = telegram_api.calls("sendMessage")
    assert call.params["chat_id"] == ANA


async def test_an_alert_behind_an_earlier_answer_to_the_psychologist_goes_with_it(
    desk: Desk, telegram_api: FakeTelegramApi, loopback_only: object
) -> None:
    """Per-recipient order holds, so an alert queued after the bot's answer to Ana's command
    waits for that answer: the alert dispatcher sends both (the main dispatcher may be minutes
    behind, under a backlog of replies)."""
    settings = desk.runtime.settings.model_copy(
        update={"telegram_api_base_url": telegram_api.base_url}
    )
    desk.to_menu()
    desk.send(ANA, "/cases")  # the bot answers Ana (a staff reply, queued)
    desk.say(PERSON, "me quiero matar")
    desk.tick()  # an alert for Ana, after that answer
    assert [r.purpose for r in desk.outbox(chat=ANA)] == ["staff_reply", "alert"]
    senders = build_senders(settings)
    alerts_only = Dispatcher(
        desk.db, desk.runtime.cipher, senders, clock=desk.clock, purposes=URGENT_PURPOSES
    )
    try:
        sent = 0
        for _ in range(3):
            sent += await alerts_only.tick()
    finally:
        await alerts_only.close()
    assert sent == 2
    calls = telegram_api.calls("sendMessage")
    assert [c.params["chat_id"] for c in calls] == [ANA, ANA]
    assert "Caso #" in calls[1].params["text"]  # the alert, after the answer
