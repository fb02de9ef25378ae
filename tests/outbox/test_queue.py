"""The one builder of outbox rows, and the two ways to write them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.crypto import Cipher
from bot.db.models import OutboundMessage
from bot.outbox.enums import Channel, OutboxStatus, Purpose
from bot.outbox.queue import Recipient, enqueue, enqueue_many, outbox_row
from bot.outbox.reply import Choice

CIPHER = Cipher("outbox-tests-secret-key-0123456789abcdef")
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
PERSON = Recipient(Channel.TELEGRAM, "hash-1", "enc-1", participant_id=None)


def test_a_row_is_pending_from_now_with_its_choices_as_plain_dicts() -> None:
    row = outbox_row(
        PERSON,
        "¿Cómo estás?",
        NOW,
        choices=[Choice("1", "Bien", "good"), {"key": "2", "label": "Mal", "payload": "bad"}],
    )
    assert row == {
        "participant_id": None,
        "channel": "telegram",
        "recipient_hash": "hash-1",
        "recipient_enc": "enc-1",
        "purpose": "reply",
        "text": "¿Cómo estás?",
        "choices": [
            {"key": "1", "label": "Bien", "payload": "good"},
            {"key": "2", "label": "Mal", "payload": "bad"},
        ],
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": NOW,
        "provider_message_id": None,
        "error": None,
        "created_at": NOW,
        "sent_at": None,
    }


def test_a_reply_already_shown_is_kept_as_sent_without_its_address() -> None:
    row = outbox_row(PERSON, "hola", NOW, shown=True)
    assert (row["status"], row["sent_at"], row["recipient_enc"]) == ("sent", NOW, None)


def test_staff_are_known_by_their_address_hashed_and_encrypted() -> None:
    to = Recipient.address(CIPHER, Channel.WHATSAPP, "whatsapp:+51987654321")
    assert to.hash == CIPHER.lookup_hash("whatsapp", "whatsapp:+51987654321")
    assert to.enc is not None and CIPHER.decrypt(to.enc) == "whatsapp:+51987654321"
    assert to.participant_id is None


def test_rows_written_one_by_one_or_together_keep_their_order(db: Engine) -> None:
    with Session(db) as session:
        first = enqueue(session, PERSON, "uno", NOW, purpose=Purpose.ALERT)
        rest = enqueue_many(
            session.connection(), [outbox_row(PERSON, text, NOW) for text in ("dos", "tres")]
        )
        assert enqueue_many(session.connection(), []) == []
        session.commit()
    with Session(db) as session:
        rows = session.exec(select(OutboundMessage).order_by(OutboundMessage.id)).all()  # type: ignore[arg-type]
    assert [r.id for r in rows] == [first, *rest]
    assert [(r.text, r.purpose, r.status) for r in rows] == [
        ("uno", "alert", OutboxStatus.PENDING),
        ("dos", "reply", "pending"),
        ("tres", "reply", "pending"),
    ]
