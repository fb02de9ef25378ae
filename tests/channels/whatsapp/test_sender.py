"""The WhatsApp sender: the twilio SDK (async) against the fake Twilio API on loopback."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.channels.registry import build_senders
from bot.channels.whatsapp.sender import MAX_BODY, WhatsAppSender, plan_message
from bot.delivery.sender import Outgoing, SendError
from bot.delivery.text import units
from bot.outbox.failures import Failure
from bot.outbox.reply import Choice
from bot.settings import load_settings
from tests.delivery.support import START
from tests.fakes import fixtures
from tests.fakes.loopback import LoopbackGuard
from tests.fakes.twilio_api import FakeTwilioApi

twilio_api = fixtures.twilio_api
loopback_only = fixtures.loopback_only

TO = "whatsapp:+34600111222"
FROM = "whatsapp:+14155238886"
QUICK_SID = "HX" + "ab" * 16
CHOICES = (Choice("1", "Sí", "consent:yes"), Choice("2", "No", "consent:no"))


def message(text: str, choices: tuple[Choice, ...] = (), purpose: str = "reply") -> Outgoing:
    return Outgoing(
        id=3,
        channel="whatsapp",
        recipient=TO,
        purpose=purpose,
        text=text,
        choices=choices,
        created_at=START,
        window_from=START - timedelta(hours=1),
    )


@pytest.fixture
async def sender(
    twilio_api: FakeTwilioApi, loopback_only: LoopbackGuard
) -> AsyncIterator[WhatsAppSender]:
    sender = WhatsAppSender(
        twilio_api.account_sid,
        twilio_api.auth_token,
        FROM,
        twilio_api.url,
        quick_replies={"consent:2": QUICK_SID},
    )
    yield sender
    await sender.close()


async def send_all(sender: WhatsAppSender, msg: Outgoing) -> list[str | None]:
    return [await sender.send(msg, part) for part in sender.plan(msg, START)]


async def test_options_are_numbered_text(sender: WhatsAppSender, twilio_api: FakeTwilioApi) -> None:
    [sid] = await send_all(sender, message("¿Aceptas?", CHOICES))

    call = twilio_api.wait_for()
    assert call.params["To"] == TO
    assert call.params["From"] == FROM
    assert call.params["Body"] == "¿Aceptas?\n\n1. Sí\n2. No"
    assert "ContentSid" not in call.params
    assert sid in twilio_api.messages


async def test_a_long_message_is_split_under_1600(
    sender: WhatsAppSender, twilio_api: FakeTwilioApi
) -> None:
    lines = [f"{n}. Línea de ayuda 24 h — teléfono gratuito, chat y correo 📞" for n in range(80)]
    text = "\n".join(lines)
    assert units(text) > 2 * MAX_BODY

    sids = await send_all(sender, message(text, CHOICES))

    calls = twilio_api.calls("messages.create")
    assert len(calls) == len(sids) >= 3
    assert all(c.status == 201 for c in calls)
    assert all(units(c.params["Body"]) <= MAX_BODY for c in calls)
    assert "\n".join(c.params["Body"] for c in calls).split("\n") == [*lines, "", "1. Sí", "2. No"]
    assert len(set(sids)) == len(sids)


async def test_quick_reply_buttons_when_a_content_sid_is_configured(
    sender: WhatsAppSender, twilio_api: FakeTwilioApi
) -> None:
    await send_all(sender, message("¿Aceptas?", CHOICES, purpose="consent"))

    call = twilio_api.wait_for()
    assert call.status == 201
    assert call.params["ContentSid"] == QUICK_SID
    assert "Body" not in call.params
    assert json.loads(call.params["ContentVariables"]) == {
        "1": "¿Aceptas?",
        "2": "Sí",
        "3": "consent:yes",
        "4": "No",
        "5": "consent:no",
    }


def test_quick_replies_fall_back_to_text_when_they_do_not_fit() -> None:
    quick = {"consent:2": QUICK_SID, "consent:3": QUICK_SID}
    long_label = (Choice("1", "Una etiqueta demasiado larga", "a"), Choice("2", "No", "b"))
    [part] = plan_message(message("¿?", long_label, purpose="consent"), START, {}, quick)
    assert part.content_sid is None
    three = (*CHOICES, Choice("3", "Tal vez", "consent:maybe"))
    [part] = plan_message(message("x" * 1100, three, purpose="consent"), START, {}, quick)
    assert part.content_sid is None  # the body is over 1,024
    [part] = plan_message(message("¿?", CHOICES, purpose="reply"), START, {}, quick)
    assert part.content_sid is None  # not configured for this purpose


async def _failure(sender: WhatsAppSender) -> SendError:
    msg = message("hola")
    with pytest.raises(SendError) as info:
        await sender.send(msg, sender.plan(msg, START)[0])
    return info.value


@pytest.mark.parametrize(
    ("fault", "failure", "code"),
    [
        ({"code": 21610}, Failure.OPTED_OUT, "twilio.21610"),
        ({"code": 21211}, Failure.UNREACHABLE, "twilio.21211"),
        ({"code": 63016}, Failure.HOLD, "twilio.63016"),
        ({"status": 429}, Failure.RETRY, "twilio.20429"),
        ({"status": 500}, Failure.RETRY, "twilio.20500"),
        ({"status": 503}, Failure.RETRY, "twilio.20503"),
        ({"code": 21617}, Failure.PERMANENT, "twilio.21617"),
    ],
)
async def test_errors_are_classified_by_code(
    sender: WhatsAppSender,
    twilio_api: FakeTwilioApi,
    fault: dict[str, int],
    failure: Failure,
    code: str,
) -> None:
    twilio_api.fail_next(**fault, message="The 'To' number +34600111222 is not valid")  # type: ignore[arg-type]
    err = await _failure(sender)
    assert (err.failure, err.code) == (failure, code)
    assert err.channel_wide == (fault.get("status") == 429)
    assert "600111222" not in err.error


async def test_no_answer_is_retried(loopback_only: LoopbackGuard) -> None:
    sender = WhatsAppSender("AC" + "0" * 32, "token", FROM, "http://127.0.0.1:9", timeout=2)
    try:
        err = await _failure(sender)
    finally:
        await sender.close()
    assert (err.failure, err.code) == (Failure.RETRY, "twilio.transport")


async def test_twilio_is_told_where_to_report_each_message_fate(
    twilio_api: FakeTwilioApi, loopback_only: LoopbackGuard
) -> None:
    """Both Twilio senders ask for status callbacks at PUBLIC_BASE_URL
    (bot.channels.twilio.receipts)."""
    settings = load_settings(
        public_base_url="https://bot.example.org",
        twilio_account_sid=twilio_api.account_sid,
        twilio_auth_token=twilio_api.auth_token,
        twilio_whatsapp_from=FROM,
        twilio_sms_from="+15005550006",
        twilio_api_base_url=twilio_api.url,
    )
    senders = build_senders(settings)
    try:
        await send_all(senders["whatsapp"], message("hola"))
        sms = senders["sms"]
        alert = replace(message("Caso #1"), channel="sms", recipient="+15555550101")
        for part in sms.plan(alert, START):
            await sms.send(alert, part)
    finally:
        for sender in senders.values():
            await sender.close()

    calls = twilio_api.calls("messages.create")
    assert [c.params["To"] for c in calls] == [TO, "+15555550101"]
    assert {c.params["StatusCallback"] for c in calls} == {
        "https://bot.example.org/webhooks/twilio/status"
    }
