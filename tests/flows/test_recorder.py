"""The inbox's one recorder (``bot.flows.recorder``), on SQLite and PostgreSQL: what a row
holds, the cleaning rule, duplicates, and that webhooks and simulators record alike."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.channels.intake import Intake
from bot.content import Content, load_content
from bot.crypto import Cipher
from bot.flows import ConversationService
from bot.flows import Engine as FlowEngine
from bot.flows.recorder import MAX_PAYLOAD, MAX_STORED_TEXT, InboxRecorder
from tests.flows.inbox_messages import NOW, SECRET, inbound, no_crisis, rows

CONFIG = Path(__file__).resolve().parents[2] / "config"


@pytest.fixture(scope="module")
def content() -> Content:
    return load_content(CONFIG)


@pytest.fixture
def recorder(db: Engine) -> InboxRecorder:
    return InboxRecorder(db, Cipher(SECRET), no_crisis)


def test_a_webhook_and_a_simulator_record_the_same_row_by_the_same_rule(
    recorder: InboxRecorder, db: Engine, content: Content
) -> None:
    """One recorder: the webhooks' batching intake and ``ConversationService.receive`` (the
    simulators) clean and store a message alike (NUL removed, payload cut to 256)."""
    text, payload = "Ho\x00la", "p" * 400
    msg = inbound("whatsapp:+51911111111", text, channel="whatsapp", mid="w1", payload=payload)
    [received] = Intake(recorder).write([msg])
    assert received.inbound_id is not None and not received.duplicate
    service = ConversationService(db, FlowEngine(content), Cipher(SECRET))
    again = service.receive(replace(msg, provider_message_id="w2"))
    assert again.sender_hash == received.sender_hash
    webhook, simulator = rows(db)
    for row in (webhook, simulator):
        assert (row.text, row.payload) == ("Hola", "p" * 256)
        assert (row.status, row.attempts, row.participant_id) == ("pending", 0, None)
        assert row.received_at == NOW
        assert Cipher(SECRET).decrypt(row.sender_enc or "") == "whatsapp:+51911111111"
    for name in ("channel", "sender_hash", "kind", "text", "payload", "urgent"):
        assert getattr(webhook, name) == getattr(simulator, name), name
    assert service.receive(replace(msg, provider_message_id="w2")).duplicate


def test_the_conversation_service_processes_what_the_intake_recorded(
    recorder: InboxRecorder, db: Engine, content: Content
) -> None:
    recorder.write([inbound("777", "hola")])
    service = ConversationService(db, FlowEngine(content), Cipher(SECRET))
    [outcome] = service.process_pending()
    assert outcome.replies and rows(db)[0].status == "done"


def test_repeats_in_one_batch_and_across_batches_are_duplicates(
    recorder: InboxRecorder, db: Engine
) -> None:
    first = inbound(mid="same")
    results = recorder.write([first, first, inbound(mid="other")])
    assert [r.duplicate for r in results] == [False, True, False]
    again = recorder.write([first])
    assert again[0].duplicate
    assert [r.provider_message_id for r in rows(db)] == ["same", "other"]
    # the same provider id on another channel is another message
    assert not recorder.write([inbound(mid="same", channel="whatsapp")])[0].duplicate


def test_text_is_cut_and_cleaned_for_every_database(recorder: InboxRecorder, db: Engine) -> None:
    recorder.write(
        [
            inbound(text="a\x00b\ud800c"),
            inbound(text="x" * (MAX_STORED_TEXT + 50), payload="p" * 400),
            inbound(text="", kind="unsupported"),
        ]
    )
    cleaned, long, empty = rows(db)
    assert cleaned.text == "ab?c"
    assert long.text is not None and len(long.text) == MAX_STORED_TEXT
    assert long.payload is not None and len(long.payload) == MAX_PAYLOAD
    assert (empty.text, empty.kind) == (None, "unsupported")


def test_one_person_is_encrypted_once_and_read_back_everywhere(
    recorder: InboxRecorder, db: Engine
) -> None:
    recorder.write([inbound("55"), inbound("55"), inbound("66")])
    first, second, other = rows(db)
    assert first.sender_hash == second.sender_hash != other.sender_hash
    assert Cipher(SECRET).decrypt(second.sender_enc or "") == "55"
    assert Cipher(SECRET).decrypt(other.sender_enc or "") == "66"
