"""Property-based fuzzing of the three webhooks (Telegram, Twilio WhatsApp, Twilio status
callbacks): at least 10,000 generated bodies each, authenticated and not, sent in concurrent
batches beside valid deliveries. Never a 5xx, never a hang (every request answers within
``REQUEST_BOUND``), and every valid delivery recorded exactly once.

``make test`` runs them with a fixed seed; ``make fuzz`` runs ten times as many, with new
inputs each time (see ``tests/fuzz/harness.py``). Schemathesis needs an OpenAPI schema, which
these routes do not publish (they take raw bodies); Hypothesis against the ASGI app is its
equivalent here."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlmodel import Session

from bot.channels.twilio import status as twilio_status
from bot.channels.twilio.form import parse_form
from bot.db.models import DeliveryReceipt, InboundMessage
from tests.fakes.twilio_signing import sign_twilio_request
from tests.fuzz.bodies import (
    FUZZ_ID_LIMIT,
    encode_form,
    status_forms,
    telegram_bodies,
    whatsapp_forms,
)
from tests.fuzz.harness import BATCH, BODIES, Harness, Reply, call, fuzz_settings
from tests.fuzz.mutate import form_mutants, telegram_mutants
from tests.web.webhooks_support import (
    BOT_ID,
    PUBLIC_BASE_URL,
    TWILIO_TOKEN,
    WEBHOOK_SECRET,
    callback_update,
    text_update,
    twilio_form,
)

#: Valid deliveries sent in each batch beside the generated bodies.
VALID_PER_BATCH = 2
#: Bodies Hypothesis draws per batch; the rest of the batch are seeded mutants.
DRAWN = 5
Batch = tuple[list[tuple[bytes, str]], int]
AUTH = st.sampled_from(["good", "wrong", "none"])
_valid_ids = itertools.count(FUZZ_ID_LIMIT)


@pytest.fixture
def harness(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> Iterator[Harness]:
    caplog.set_level(logging.CRITICAL, logger="bot")  # thousands of refusals are logged
    running = Harness(tmp_path)
    try:
        yield running
    finally:
        running.close()


def telegram_headers(auth: str) -> list[tuple[bytes, bytes]]:
    headers = [(b"content-type", b"application/json")]
    if auth != "none":
        secret = WEBHOOK_SECRET if auth == "good" else WEBHOOK_SECRET[:-1] + "x"
        headers.append((b"x-telegram-bot-api-secret-token", secret.encode()))
    return headers


def twilio_headers(auth: str, path: str, body: bytes) -> list[tuple[bytes, bytes]]:
    headers = [(b"content-type", b"application/x-www-form-urlencoded")]
    if auth != "none":
        token = TWILIO_TOKEN if auth == "good" else TWILIO_TOKEN[:-1] + "x"
        signature = sign_twilio_request(token, PUBLIC_BASE_URL + path, parse_form(body))
        headers.append((b"x-twilio-signature", signature.encode()))
    return headers


Request = tuple[bytes, list[tuple[bytes, bytes]]]


async def send_all(
    harness: Harness, path: str, good: list[Request], fuzz: list[Request]
) -> list[Reply]:
    """The valid deliveries, then the generated ones, all at once; replies in that order."""
    requests = [*good, *fuzz]
    replies = await asyncio.gather(*(call(harness.app, path, b, h) for b, h in requests))
    harness.fuzzed += len(fuzz)
    return list(replies)


def assert_no_server_error(replies: list[Reply]) -> None:
    errors = [r.status for r in replies if r.status >= 500 or r.status < 200]
    assert not errors, errors


def count_by(harness: Harness, column: Any, keys: list[str]) -> Counter[str]:
    with Session(harness.db) as session:
        rows = session.execute(
            select(column, func.count()).where(column.in_(keys)).group_by(column)
        ).all()
    return Counter({key: n for key, n in rows})


def drawn(strategy: st.SearchStrategy[bytes]) -> st.SearchStrategy[Batch]:
    """One example: a few bodies drawn by Hypothesis (shrinkable) and a seed for the mutants."""
    return st.tuples(
        st.lists(st.tuples(strategy, AUTH), min_size=DRAWN, max_size=DRAWN),
        st.integers(0, 2**32),
    )


def mutant_auth(seed: int, n: int) -> list[str]:
    """Mostly authenticated, so that the mutants reach the parsers and the intake."""
    rng = random.Random(seed + 1)
    return [rng.choice(["good", "good", "good", "wrong", "none"]) for _ in range(n)]


def telegram_templates() -> list[dict[str, Any]]:
    photo = text_update(1, "")
    del photo["message"]["text"]
    photo["message"]["photo"] = [{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}]
    photo["message"]["caption"] = "hola"
    edited = text_update(2, "me quiero matar")
    edited["edited_message"] = edited.pop("message")
    reply = text_update(3, "hola")
    reply["message"]["reply_to_message"] = text_update(3, "antes")["message"]
    group = text_update(-4, "hola")
    group["message"]["chat"]["type"] = "group"
    return [
        text_update(5, "hola"),
        callback_update(6, "consent:yes", "q1"),
        photo,
        edited,
        reply,
        group,
    ]


def test_telegram_webhook(harness: Harness) -> None:
    valid: list[str] = []
    templates = telegram_templates()

    @fuzz_settings()
    @given(drawn(telegram_bodies))
    def batch(example: Batch) -> None:
        bases, seed = example
        mutants = telegram_mutants([b for b, _ in bases], templates, seed, BATCH - DRAWN)
        fuzz = [*bases, *zip(mutants, mutant_auth(seed, len(mutants)), strict=True)]
        updates = [
            text_update(8_000_000 + n, "hola", next(_valid_ids)) for n in range(VALID_PER_BATCH)
        ]
        good = [(json.dumps(u).encode(), telegram_headers("good")) for u in updates]
        requests = [(body, telegram_headers(auth)) for body, auth in fuzz]
        replies = harness.run(send_all(harness, "/webhooks/telegram", good, requests))
        assert_no_server_error(replies)
        assert [r.status for r in replies[: len(good)]] == [200] * len(good)
        valid.extend(f"{BOT_ID}:{u['update_id']}" for u in updates)

    batch()
    assert harness.fuzzed >= BODIES
    recorded = count_by(harness, InboundMessage.provider_message_id, valid)  # type: ignore[arg-type]
    assert recorded == Counter(dict.fromkeys(valid, 1))


def twilio_batch(
    harness: Harness,
    path: str,
    example: Batch,
    templates: list[list[tuple[str, str]]],
    good: list[tuple[bytes, list[tuple[bytes, bytes]]]],
) -> list[Reply]:
    bases, seed = example
    mutants = form_mutants([b for b, _ in bases], templates, seed, BATCH - DRAWN)
    fuzz = [*bases, *zip(mutants, mutant_auth(seed, len(mutants)), strict=True)]
    requests = [(body, twilio_headers(auth, path, body)) for body, auth in fuzz]
    replies = harness.run(send_all(harness, path, good, requests))
    assert_no_server_error(replies)
    return replies


def test_whatsapp_webhook(harness: Harness) -> None:
    path = "/webhooks/whatsapp"
    valid: list[str] = []
    templates = [
        list(twilio_form("whatsapp:+51987654321", "hola").items()),
        list(twilio_form("whatsapp:+51987654321", "", ButtonPayload="consent:yes").items()),
        list(twilio_form("whatsapp:+51987654321", "", NumMedia="1").items()),
    ]

    @fuzz_settings()
    @given(drawn(whatsapp_forms.map(encode_form) | st.binary(max_size=300)))
    def batch(example: Batch) -> None:
        sids = [f"SMvalid{next(_valid_ids):025x}" for _ in range(VALID_PER_BATCH)]
        good = []
        for n, sid in enumerate(sids):
            body = encode_form(list(twilio_form(f"whatsapp:+5198{n:07d}", "hola", sid).items()))
            good.append((body, twilio_headers("good", path, body)))
        replies = twilio_batch(harness, path, example, templates, good)
        assert [r.status for r in replies[: len(good)]] == [200] * len(good)
        valid.extend(sids)

    batch()
    assert harness.fuzzed >= BODIES
    recorded = count_by(harness, InboundMessage.provider_message_id, valid)  # type: ignore[arg-type]
    assert recorded == Counter(dict.fromkeys(valid, 1))


def test_twilio_status_callback(harness: Harness) -> None:
    path = twilio_status.PATH
    valid: list[str] = []
    sid = "SM" + "a" * 32
    templates = [
        [("MessageSid", sid), ("MessageStatus", "delivered")],
        [("MessageSid", sid), ("MessageStatus", "failed"), ("ErrorCode", "63016")],
        [("SmsSid", sid), ("SmsStatus", "undelivered"), ("ErrorCode", "30003")],
    ]

    @fuzz_settings()
    @given(drawn(status_forms.map(encode_form) | st.binary(max_size=300)))
    def batch(example: Batch) -> None:
        sids = [f"SMrcpt{next(_valid_ids):026x}" for _ in range(VALID_PER_BATCH)]
        good = []
        for valid_sid in sids:
            body = encode_form([("MessageSid", valid_sid), ("MessageStatus", "delivered")])
            good.append((body, twilio_headers("good", path, body)))
        replies = twilio_batch(harness, path, example, templates, good)
        assert [r.status for r in replies[: len(good)]] == [204] * len(good)
        valid.extend(sids)

    batch()
    assert harness.fuzzed >= BODIES
    # A receipt for a message not yet known is kept, once.
    kept = count_by(harness, DeliveryReceipt.provider_message_id, valid)  # type: ignore[arg-type]
    assert kept == Counter(dict.fromkeys(valid, 1))
