"""Twilio status callbacks applied to the outbox, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select, update

from bot.channels.twilio import receipts
from bot.channels.twilio.receipts import Receipt, parse, record
from bot.db.models import DeliveryReceipt, OutboundMessage
from bot.delivery.claims import Outbox
from bot.outbox.window import held_messages
from tests.delivery.support import START, add_person, person, queue, row

TO = "whatsapp:+51987654321"
SID = "SM" + "ab" * 16


def sent_row(db: Engine, *, staff: bool = False, sid: str = SID, purpose: str = "reply") -> int:
    """A row the dispatcher has sent, Twilio's id recorded."""
    pid = None if staff else add_person(db, "whatsapp", TO)
    [rid] = queue(db, "whatsapp", TO, ["hola"], participant_id=pid, purpose=purpose)
    with Session(db) as session:
        session.exec(
            update(OutboundMessage)
            .where(OutboundMessage.id == rid)  # type: ignore[arg-type]
            .values(status="sent", provider_message_id=sid, sent_at=START)
        )
        session.commit()
    return rid


def kept(db: Engine) -> int:
    with Session(db) as session:
        return session.exec(select(func.count()).select_from(DeliveryReceipt)).one()


def test_the_callback_fields_make_a_receipt() -> None:
    fields = {"MessageSid": SID, "MessageStatus": "undelivered", "ErrorCode": "63016"}
    assert parse(fields) == Receipt(SID, "undelivered", 63016)
    assert parse({"SmsSid": SID, "SmsStatus": "Delivered"}) == Receipt(SID, "delivered")
    assert parse({"MessageSid": SID, "MessageStatus": "failed", "ErrorCode": "x"}) == Receipt(
        SID, "failed"
    )
    assert parse({"MessageStatus": "delivered"}) is None
    assert parse({"MessageSid": SID}) is None
    assert parse({"MessageSid": "S" * 65, "MessageStatus": "delivered"}) is None
    assert parse({"MessageSid": SID, "MessageStatus": "x" * 17}) is None


def test_delivered_and_read_move_a_sent_message_forward_once(db: Engine) -> None:
    rid = sent_row(db)
    assert record(db, Receipt(SID, "sent"), START) == "ignored"  # not final
    assert row(db, rid).status == "sent"
    assert record(db, Receipt(SID, "delivered"), START) == "delivered"
    assert record(db, Receipt(SID, "delivered"), START) == "ignored"  # a replay
    assert record(db, Receipt(SID, "read"), START) == "ignored"
    assert record(db, Receipt(SID, "undelivered", 30008), START) == "ignored"
    assert (row(db, rid).status, row(db, rid).error) == ("delivered", None)
    assert kept(db) == 0


def test_outside_the_window_a_message_to_a_person_is_held(db: Engine) -> None:
    rid = sent_row(db, purpose="psychologist_message")
    assert record(db, Receipt(SID, "undelivered", 63016), START) == "held"
    assert (row(db, rid).status, row(db, rid).error) == ("held", "twilio.63016")
    assert [h.id for h in held_messages(db)] == [rid]


def test_outside_the_window_an_alert_to_staff_fails(db: Engine) -> None:
    rid = sent_row(db, staff=True, purpose="alert")
    assert record(db, Receipt(SID, "failed", 63016), START) == "failed"
    assert (row(db, rid).status, row(db, rid).error) == ("failed", "twilio.63016")


@pytest.mark.parametrize(
    ("code", "outcome", "mark"),
    [(21610, "opted_out", "opted_out_at"), (21211, "unreachable", "unreachable_at")],
)
def test_an_opt_out_or_bad_number_marks_the_person(
    db: Engine, code: int, outcome: str, mark: str
) -> None:
    rid = sent_row(db)
    pid = row(db, rid).participant_id
    assert pid is not None
    assert record(db, Receipt(SID, "failed", code), START) == outcome
    assert (row(db, rid).status, row(db, rid).error) == ("failed", f"twilio.{code}")
    assert getattr(person(db, pid), mark) == START


def test_other_failures_fail_the_message_and_nothing_is_sent_again(db: Engine) -> None:
    rid = sent_row(db)
    pid = row(db, rid).participant_id
    assert pid is not None
    assert record(db, Receipt(SID, "undelivered"), START) == "failed"
    assert (row(db, rid).status, row(db, rid).error) == ("failed", "twilio.undelivered")
    found = person(db, pid)
    assert found.opted_out_at is None and found.unreachable_at is None


def test_a_receipt_before_the_send_is_recorded_is_applied_with_it(db: Engine) -> None:
    """Twilio can call back before the dispatcher has written the message's id."""
    pid = add_person(db, "whatsapp", TO)
    [rid] = queue(db, "whatsapp", TO, ["hola"], participant_id=pid)
    outbox = Outbox(db)
    [claim] = outbox.claim(["whatsapp"], 10, START, lambda *_: 0.0)

    assert record(db, Receipt(SID, "undelivered", 63016), START) == "kept"
    assert kept(db) == 1
    assert outbox.sent(claim, SID, START, receipts)

    assert (row(db, rid).status, row(db, rid).error) == ("held", "twilio.63016")
    assert kept(db) == 0


def test_receipts_that_never_match_go_after_a_day(db: Engine) -> None:
    """An earlier part of a split message: its id is not kept, so its receipt never matches."""
    before = receipts.RECEIPTS.value(outcome="kept")
    assert record(db, Receipt("SM" + "01" * 16, "delivered"), START) == "kept"
    assert record(db, Receipt("SM" + "02" * 16, "delivered"), START + timedelta(hours=23)) == "kept"
    assert kept(db) == 2
    assert record(db, Receipt("SM" + "03" * 16, "delivered"), START + timedelta(hours=25)) == "kept"
    with Session(db) as session:
        left = session.exec(select(DeliveryReceipt.provider_message_id)).all()
    assert sorted(left) == ["SM" + "02" * 16, "SM" + "03" * 16]
    assert receipts.RECEIPTS.value(outcome="kept") == before + 3


def test_a_receipt_that_races_the_recording_of_the_send_is_not_lost(db: Engine) -> None:
    """The receipt comes while the dispatcher's transaction recording the send is open: it
    waits for it (PostgreSQL: the message's advisory lock; SQLite: the write lock) and then
    finds the message, instead of being kept for a send it would never see."""
    pid = add_person(db, "whatsapp", TO)
    [rid] = queue(db, "whatsapp", TO, ["hola"], participant_id=pid)
    outcomes: list[str] = []
    receiving = threading.Thread(
        target=lambda: outcomes.append(record(db, Receipt(SID, "delivered"), START))
    )
    with db.begin() as connection:  # what Outbox.sent does, paused before its commit
        receipts.lock_message(connection, SID)
        connection.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == rid)  # type: ignore[arg-type]
            .values(status="sent", provider_message_id=SID)
        )
        receiving.start()
        receiving.join(0.3)
        assert receiving.is_alive()  # waiting for the send's transaction
    receiving.join(10)
    assert outcomes == ["delivered"]
    assert row(db, rid).status == "delivered"
    assert kept(db) == 0
