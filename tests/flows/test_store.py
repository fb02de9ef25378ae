"""The conversation step's SQL (bot.flows.store) on SQLite and PostgreSQL, and the service
behaviour that rests on it: the version guard, the opt-out, the order of queued replies."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, select

from bot.content import Content
from bot.crypto import Cipher
from bot.db.models import Conversation, InboundMessage, OutboundMessage, Participant
from bot.flows import ConversationService, Inbound
from bot.flows import Engine as FlowEngine
from bot.flows.store import PendingMessage, StepStore

SECRET = "store-tests-secret-key-0123456789abcdef01"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
PHONE = "whatsapp:+51911222333"
_ids = itertools.count(1)


@pytest.fixture
def service(db: Engine, content: Content) -> ConversationService:
    return ConversationService(db, FlowEngine(content), Cipher(SECRET), clock=lambda: NOW)


def receive(service: ConversationService, text: str, who: str = PHONE) -> str:
    received = service.receive(
        Inbound(
            channel="whatsapp",
            external_id=who,
            provider_message_id=f"SM{next(_ids)}",
            received_at=NOW,
            text=text,
        )
    )
    assert received.inbound_id is not None
    return received.sender_hash


def store_for(db: Engine) -> StepStore:
    return StepStore(db.dialect.name == "postgresql")


def second_message(service: ConversationService, db: Engine) -> tuple[StepStore, PendingMessage]:
    """A person's first message processed and their second waiting, as the store reads it."""
    sender = receive(service, "hola")
    service.process_pending()
    receive(service, "1")
    store = store_for(db)
    with db.begin() as conn:
        pending = store.next_pending(conn, "whatsapp", sender)
    assert pending is not None
    return store, pending


def test_the_next_message_comes_with_the_person_and_the_conversation(
    service: ConversationService, db: Engine
) -> None:
    sender = receive(service, "hola")
    store = store_for(db)
    with db.begin() as conn:
        first = store.next_pending(conn, "whatsapp", sender)
    assert first is not None and first.text == "hola" and first.sender_enc is not None
    assert first.person is None and first.conversation is None  # not seen before
    assert first.received_at == NOW

    service.process_pending()
    receive(service, "1")
    with db.begin() as conn:
        second = store.next_pending(conn, "whatsapp", sender)
        assert store.next_pending(conn, "whatsapp", "someone-else") is None
    assert second is not None and second.id > first.id and second.text == "1"
    assert second.person is not None and second.person.language == "es"
    assert second.person.last_inbound_at == NOW
    assert second.conversation is not None
    assert (second.conversation.state, second.conversation.version) == ("language", 1)


def test_a_conversation_changed_since_it_was_read_is_not_overwritten(
    service: ConversationService, db: Engine
) -> None:
    store, pending = second_message(service, db)
    assert pending is not None and pending.person is not None and pending.conversation
    # Someone else saves the conversation through the ORM (its version_id_col bumps it).
    with Session(db) as session:
        conv = session.exec(select(Conversation)).one()
        conv.context = {"touched": True}
        session.add(conv)
        session.commit()
    values = {
        "state": "menu",
        "language": "es",
        "instrument_id": None,
        "item_id": None,
        "answers": {},
        "plan": [],
        "context": {},
        "last_activity_at": NOW,
    }
    with pytest.raises(StaleDataError), db.begin() as conn:
        store.save_conversation(conn, pending.person.id, pending.conversation, values)
    with Session(db) as session:
        conv = session.exec(select(Conversation)).one()
        assert (conv.state, conv.context, conv.version) == ("language", {"touched": True}, 2)
    # The service reads it again and carries on from the saved version.
    [outcome] = service.process_pending()
    assert outcome.replies
    with Session(db) as session:
        assert session.exec(select(Conversation)).one().version == 3


def test_a_step_keeps_an_opt_out_the_dispatcher_recorded_meanwhile(
    service: ConversationService, db: Engine
) -> None:
    """The step writes the opt-out only when the person asked to stop or start again."""
    store, pending = second_message(service, db)
    assert pending is not None and pending.person is not None
    with db.begin() as conn:  # Twilio said 21610: the dispatcher marks the opt-out
        conn.execute(update(Participant).values(opted_out_at=NOW))
    person = pending.person
    person.language = "en"
    with db.begin() as conn:
        store.save_person(conn, person, opt_out_changed=False)
    with Session(db) as session:
        stored = session.exec(select(Participant)).one()
        assert (stored.language, stored.opted_out_at) == ("en", NOW)
    with db.begin() as conn:
        store.save_person(conn, person, opt_out_changed=True)  # the person said START
    with Session(db) as session:
        assert session.exec(select(Participant)).one().opted_out_at is None


def test_queued_replies_get_their_ids_in_order(service: ConversationService, db: Engine) -> None:
    receive(service, "hola")
    [outcome] = service.process_pending()
    with Session(db) as session:
        rows = session.exec(select(OutboundMessage).order_by(OutboundMessage.id)).all()  # type: ignore[arg-type]
    assert len(rows) == len(outcome.replies) >= 1
    assert outcome.outbound_ids == [r.id for r in rows]
    assert [r.text for r in rows] == [r.text for r in outcome.replies]
    assert all(r.status == "pending" and r.recipient_enc for r in rows)


def test_a_limited_round_leaves_later_messages_for_the_next(
    service: ConversationService, db: Engine
) -> None:
    sender = receive(service, "hola")
    receive(service, "1")
    assert service.pending_senders() == [("whatsapp", sender, 2)]
    assert len(service.process_sender("whatsapp", sender, limit=1)) == 1
    with Session(db) as session:
        statuses = [m.status for m in session.exec(select(InboundMessage)).all()]
    assert sorted(statuses) == ["done", "pending"]
    assert len(service.process_sender("whatsapp", sender)) == 1
    assert service.pending_senders() == []
