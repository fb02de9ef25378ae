"""The WhatsApp 24-hour window: free-form inside, a template or a hold outside."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.channels.whatsapp.sender import WhatsAppSender, template_variable
from bot.content import Content, load_content
from bot.delivery import stats
from bot.flows import ConversationService, Inbound, StepOutcome
from bot.flows import Engine as FlowEngine
from bot.outbox.window import (
    MESSAGES_RELEASED,
    TWILIO_CLOCK_SLACK,
    WINDOW,
    WindowDecision,
    decide,
    held_messages,
    may_have_held,
    templates_from_settings,
    window_open,
    window_start,
)
from bot.settings import load_settings
from tests.delivery.support import (
    CIPHER,
    START,
    FakeClock,
    add_person,
    dispatcher,
    drain,
    queue,
    row,
)
from tests.fakes import fixtures
from tests.fakes.twilio_api import FakeTwilioApi

twilio_api = fixtures.twilio_api
loopback_only = fixtures.loopback_only

TO = "whatsapp:+34600111222"
FOLLOWUP_SID = "HX" + "f0" * 16
PSYCHOLOGIST_SID = "HX" + "9a" * 16
ALERT_SID = "HX" + "a1" * 16
TEMPLATES = {"followup": FOLLOWUP_SID}
CONFIG = Path(__file__).resolve().parents[2] / "config"


@pytest.fixture(scope="module")
def content() -> Content:
    return load_content(CONFIG)


def test_the_window_is_24_hours_from_the_last_message() -> None:
    assert window_open(START, START + timedelta(hours=23))
    assert not window_open(START, START + WINDOW)
    assert not window_open(START, START + WINDOW - timedelta(seconds=30))  # safety margin
    assert not window_open(None, START)


def test_held_messages_are_looked_for_only_near_or_after_the_window_end() -> None:
    assert may_have_held(None, START)
    assert not may_have_held(START, START + timedelta(hours=22))
    assert may_have_held(START, START + WINDOW - TWILIO_CLOCK_SLACK)
    assert may_have_held(START, START + timedelta(days=3))


def test_decisions() -> None:
    inside, outside = START + timedelta(hours=1), START + timedelta(hours=25)
    assert decide("reply", START, inside, TEMPLATES) == WindowDecision("free")
    assert decide("followup", START, inside, TEMPLATES) == WindowDecision("free")
    assert decide("followup", START, outside, TEMPLATES) == WindowDecision("template", FOLLOWUP_SID)
    assert decide("reply", START, outside, TEMPLATES) == WindowDecision("hold")
    assert decide("psychologist_message", START, outside, TEMPLATES) == WindowDecision("hold")


def test_templates_come_from_the_settings() -> None:
    settings = load_settings(
        twilio_template_followup_sid=FOLLOWUP_SID,
        twilio_template_psychologist_sid=PSYCHOLOGIST_SID,
    )
    templates = templates_from_settings(settings)
    assert templates["followup"] == FOLLOWUP_SID
    assert templates["psychologist_message"] == PSYCHOLOGIST_SID
    assert "reply" not in templates
    assert templates_from_settings(load_settings()) == {}


@pytest.fixture
async def sender(twilio_api: FakeTwilioApi, loopback_only: object) -> AsyncIterator[WhatsAppSender]:
    sender = WhatsAppSender(
        twilio_api.account_sid,
        twilio_api.auth_token,
        "whatsapp:+14155238886",
        twilio_api.url,
        templates=TEMPLATES,
    )
    yield sender
    await sender.close()


async def test_inside_the_window_free_form_is_sent(
    db: Engine, sender: WhatsAppSender, twilio_api: FakeTwilioApi
) -> None:
    clock = FakeClock(START + timedelta(hours=23))
    pid = add_person(db, "whatsapp", TO, last_inbound_at=START)
    [rid] = queue(
        db,
        "whatsapp",
        TO,
        ["¿Cómo estás hoy?"],
        participant_id=pid,
        purpose="followup",
        at=clock.now(),
    )

    await drain(dispatcher(db, {"whatsapp": sender}, clock), clock=clock)

    assert row(db, rid).status == "sent"
    call = twilio_api.wait_for()
    assert call.params["Body"] == "¿Cómo estás hoy?"
    assert "ContentSid" not in call.params


async def test_outside_the_window_the_template_is_used(
    db: Engine, sender: WhatsAppSender, twilio_api: FakeTwilioApi
) -> None:
    clock = FakeClock(START + timedelta(hours=30))
    pid = add_person(db, "whatsapp", TO, last_inbound_at=START)
    [rid] = queue(
        db,
        "whatsapp",
        TO,
        ["¿Cómo estás hoy?"],
        participant_id=pid,
        purpose="followup",
        at=clock.now(),
    )

    await drain(dispatcher(db, {"whatsapp": sender}, clock), clock=clock)

    sent = row(db, rid)
    assert sent.status == "sent"
    call = twilio_api.wait_for()
    assert call.params["ContentSid"] == FOLLOWUP_SID
    assert json.loads(call.params["ContentVariables"]) == {"1": "¿Cómo estás hoy?"}
    assert "Body" not in call.params
    assert sent.provider_message_id in twilio_api.messages


async def test_outside_the_window_without_a_template_the_message_is_held(
    db: Engine, sender: WhatsAppSender, twilio_api: FakeTwilioApi
) -> None:
    clock = FakeClock(START + timedelta(hours=30))
    pid = add_person(db, "whatsapp", TO, last_inbound_at=START)
    held_before = stats.MESSAGES_HELD.value(channel="whatsapp", purpose="reply")
    ids = queue(
        db, "whatsapp", TO, ["respuesta tardía", "y otra"], participant_id=pid, at=clock.now()
    )

    await drain(dispatcher(db, {"whatsapp": sender}, clock), clock=clock)

    assert [row(db, i).status for i in ids] == ["held", "held"]
    assert twilio_api.calls("messages.create") == []
    held = held_messages(db)
    assert [h.id for h in held] == ids[::-1]
    assert held[0].participant_id == pid
    assert held[0].reason == "window.closed"
    assert held_messages(db, participant_id=pid + 1) == []
    after = stats.MESSAGES_HELD.value(channel="whatsapp", purpose="reply")
    assert after == held_before + 2


async def test_twilio_63016_holds_the_message_too(
    db: Engine, sender: WhatsAppSender, twilio_api: FakeTwilioApi
) -> None:
    """Our clock and Twilio's disagree: Twilio's answer wins."""
    clock = FakeClock(START + timedelta(hours=1))
    pid = add_person(db, "whatsapp", TO, last_inbound_at=START)
    [rid] = queue(db, "whatsapp", TO, ["hola"], participant_id=pid, at=clock.now())
    twilio_api.fail_next(code=63016)

    await drain(dispatcher(db, {"whatsapp": sender}, clock), clock=clock)

    assert (row(db, rid).status, row(db, rid).error) == ("held", "twilio.63016")
    assert [h.id for h in held_messages(db)] == [rid]


def test_the_window_of_a_row_without_a_person() -> None:
    later = START + timedelta(hours=2)
    assert window_start(7, START, "reply", later) == START
    assert window_start(7, None, "followup", later) is None
    assert window_start(None, None, "reply", later) == later  # erased person: just answered
    assert window_start(None, None, "staff_reply", later) == later
    assert window_start(None, None, "alert", later) is None  # staff alert: unknown, closed


def test_a_template_variable_has_no_new_lines_and_fits() -> None:
    assert template_variable("Hola Ana,\n\n  ¿cómo   estás?\t") == "Hola Ana, · ¿cómo estás?"
    long = template_variable("palabra " * 200)
    assert long.endswith("…")
    assert len(long) <= 700


async def test_a_staff_alert_outside_the_window_fails_so_the_next_channel_is_tried(
    db: Engine, sender: WhatsAppSender, twilio_api: FakeTwilioApi
) -> None:
    clock = FakeClock()
    [rid] = queue(
        db, "whatsapp", TO, ["Caso 12: riesgo alto"], participant_id=None, purpose="alert"
    )

    await drain(dispatcher(db, {"whatsapp": sender}, clock), clock=clock)

    assert (row(db, rid).status, row(db, rid).error) == ("failed", "window.closed")
    assert held_messages(db) == []
    assert twilio_api.calls("messages.create") == []


async def test_a_staff_alert_uses_the_alert_template(
    db: Engine, twilio_api: FakeTwilioApi, loopback_only: object
) -> None:
    settings = load_settings(twilio_template_alert_sid=ALERT_SID)
    sender = WhatsAppSender(
        twilio_api.account_sid,
        twilio_api.auth_token,
        "whatsapp:+14155238886",
        twilio_api.url,
        templates=templates_from_settings(settings),
    )
    clock = FakeClock()
    [rid] = queue(
        db, "whatsapp", TO, ["Caso 12\nRiesgo alto"], participant_id=None, purpose="alert"
    )
    try:
        await drain(dispatcher(db, {"whatsapp": sender}, clock), clock=clock)
    finally:
        await sender.close()

    assert row(db, rid).status == "sent"
    call = twilio_api.wait_for()
    assert call.params["ContentSid"] == ALERT_SID
    assert json.loads(call.params["ContentVariables"]) == {"1": "Caso 12 · Riesgo alto"}


def writes_again(db: Engine, content: Content, clock: FakeClock) -> StepOutcome:
    """The person (``TO``) writes "hola": the step runs through the conversation service."""
    service = ConversationService(db, FlowEngine(content), CIPHER, clock=clock.now)
    inbound = Inbound(
        channel="whatsapp",
        external_id=TO,
        provider_message_id=f"SM{clock.now().timestamp():032.0f}",
        received_at=clock.now(),
        text="hola",
    )
    return service.handle(inbound)


async def test_held_messages_to_reach_out_go_when_the_person_writes_again(
    db: Engine, sender: WhatsAppSender, twilio_api: FakeTwilioApi, content: Content
) -> None:
    clock = FakeClock(START + timedelta(hours=30))
    pid = add_person(db, "whatsapp", TO, last_inbound_at=START)
    [late_reply] = queue(
        db, "whatsapp", TO, ["respuesta tardía"], participant_id=pid, at=clock.now()
    )
    [from_psychologist] = queue(
        db,
        "whatsapp",
        TO,
        ["Hola, soy Ana, psicóloga del programa."],
        participant_id=pid,
        purpose="psychologist_message",
        at=clock.now(),
    )
    await drain(dispatcher(db, {"whatsapp": sender}, clock), clock=clock)
    assert [row(db, i).status for i in (late_reply, from_psychologist)] == ["held", "held"]
    released_before = MESSAGES_RELEASED.value(channel="whatsapp")

    clock.advance(3 * 86400)  # older than a message may wait: its age counts from now
    outcome = writes_again(db, content, clock)

    # Queued again ahead of the answer to "hola"; the answer whose moment passed stays held.
    assert outcome.released == 1
    assert outcome.outbound_ids[0] == from_psychologist
    assert len(outcome.outbound_ids) > 1
    assert row(db, from_psychologist).status == "pending"
    assert row(db, late_reply).status == "held"
    assert MESSAGES_RELEASED.value(channel="whatsapp") == released_before + 1
    await drain(dispatcher(db, {"whatsapp": sender}, clock), clock=clock)
    bodies = [c.params["Body"] for c in twilio_api.calls("messages.create")]
    assert bodies[0] == "Hola, soy Ana, psicóloga del programa."
    assert len(bodies) == len(outcome.outbound_ids)
    assert [h.id for h in held_messages(db)] == [late_reply]


async def test_a_message_twilio_held_inside_our_window_goes_when_the_person_writes(
    db: Engine, sender: WhatsAppSender, twilio_api: FakeTwilioApi, content: Content
) -> None:
    """Twilio said 63016 although our clock had the window open (near its end): the
    person's next message opens a new window, so the message goes then."""
    clock = FakeClock(START + WINDOW - timedelta(minutes=30))
    pid = add_person(db, "whatsapp", TO, last_inbound_at=START)
    [rid] = queue(
        db,
        "whatsapp",
        TO,
        ["Hola, soy Ana."],
        participant_id=pid,
        purpose="psychologist_message",
        at=clock.now(),
    )
    twilio_api.fail_next(code=63016)
    await drain(dispatcher(db, {"whatsapp": sender}, clock), clock=clock)
    assert row(db, rid).status == "held"

    outcome = writes_again(db, content, clock)

    assert outcome.released == 1
    assert outcome.outbound_ids[0] == rid
    assert row(db, rid).status == "pending"
