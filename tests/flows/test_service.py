"""The conversation service against real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, inspect, text
from sqlmodel import Session, select

from bot.content import Content
from bot.crypto import Cipher
from bot.db.models import (
    Consent,
    Conversation,
    InboundMessage,
    OutboundMessage,
    Participant,
    RiskSignal,
    Screening,
)
from bot.flows import ConversationService, Inbound
from bot.flows import Engine as FlowEngine

SECRET = "test-secret-key-0123456789abcdef0123456789"
PHONE = "whatsapp:+51987654321"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(db: Engine, content: Content, clock: Clock) -> ConversationService:
    return ConversationService(db, FlowEngine(content), Cipher(SECRET), clock=clock)


_ids = itertools.count(1)


def msg(text: str, who: str = PHONE, channel: str = "sim", mid: str | None = None) -> Inbound:
    return Inbound(
        channel=channel,
        external_id=who,
        provider_message_id=mid or f"m{next(_ids)}",
        received_at=datetime(2026, 11, 22, 12, 0, tzinfo=UTC),
        text=text,
    )


def talk(service: ConversationService, *texts: str, who: str = PHONE) -> list[str]:
    replies: list[str] = []
    for t in texts:
        outcome = service.handle(msg(t, who))
        replies.extend(r.text for r in outcome.replies)
    return replies


def test_a_full_phq9_is_stored_with_consent_and_messages(
    service: ConversationService, db: Engine
) -> None:
    talk(service, "hola", "1", "1", "1", *["1"] * 9)
    with Session(db) as s:
        screening = s.exec(select(Screening)).one()
        assert (screening.instrument_id, screening.total, screening.band) == ("phq9", 9, "mild")
        assert screening.answers == {f"phq9_{n}": "1" for n in range(1, 10)}
        assert screening.instrument_version
        consent = s.exec(select(Consent)).one()
        assert consent.given
        # item 9 = 1 raised a durable signal in the same transaction
        signal = s.exec(select(RiskSignal)).one()
        assert (signal.rule_id, signal.priority) == ("phq9.item9", "high")
        inbound = s.exec(select(InboundMessage).order_by(InboundMessage.id)).all()
        assert len(inbound) == 13 and all(m.status == "done" for m in inbound)
        assert inbound[0].text is None  # before consent nothing is kept
        # the language choice is before consent: not kept either
        assert [m.text for m in inbound[1:4]] == [None, "1", "1"]
        assert all(m.sender_enc is None for m in inbound)
        conv = s.exec(select(Conversation)).one()
        assert conv.state == "waiting" and conv.version == 13  # item 9: waits for a human
        assert s.exec(select(OutboundMessage)).all()


def test_a_redelivered_message_is_not_processed_twice(
    service: ConversationService, db: Engine
) -> None:
    talk(service, "hola", "1", "1", "1")
    first = service.handle(msg("3", mid="dup-1"))
    again = service.handle(msg("3", mid="dup-1"))
    assert not first.duplicate and first.replies
    assert again.duplicate and again.replies == []
    with Session(db) as s:
        conv = s.exec(select(Conversation)).one()
        assert conv.answers == {"phq9_1": "3"}


def test_messages_recorded_before_a_crash_are_processed_after_restart(
    db: Engine, content: Content, clock: Clock
) -> None:
    first = ConversationService(db, FlowEngine(content), Cipher(SECRET), clock=clock)
    for t in ("hola", "1", "1", "1", "2", "3"):
        assert not first.receive(msg(t, channel="whatsapp")).duplicate
    # the process "dies" here: nothing was processed
    restarted = ConversationService(db, FlowEngine(content), Cipher(SECRET), clock=clock)
    outcomes = restarted.process_pending()
    assert len(outcomes) == 6
    with Session(db) as s:
        conv = s.exec(select(Conversation)).one()
        assert conv.answers == {"phq9_1": "2", "phq9_2": "3"}  # in order
    assert restarted.process_pending() == []


def test_refusal_keeps_only_the_refusal(service: ConversationService, db: Engine) -> None:
    talk(service, "hola quiero ayuda", "1", "no")
    with Session(db) as s:
        assert [c.given for c in s.exec(select(Consent)).all()] == [False]
        assert all(m.text is None for m in s.exec(select(InboundMessage)).all())
        assert s.exec(select(Screening)).all() == []


def test_delete_erases_the_person_and_they_can_start_again(
    service: ConversationService, db: Engine
) -> None:
    talk(service, "hola", "1", "1", "1", *["0"] * 9, "BORRAR")
    replies = talk(service, "1")
    assert any("borrados" in r for r in replies)
    with Session(db) as s:
        assert s.exec(select(Participant)).all() == []
        assert s.exec(select(Screening)).all() == []
        assert s.exec(select(Consent)).all() == []
        assert s.exec(select(Conversation)).all() == []
        inbound = s.exec(select(InboundMessage)).all()
        assert all(m.text is None and m.participant_id is None for m in inbound)
        # the confirmation is still delivered, attached to nobody
        assert all(o.participant_id is None for o in s.exec(select(OutboundMessage)).all())
    again = talk(service, "hola")
    assert any("emergencias" in r for r in again)


def test_identifiers_are_never_stored_in_clear(service: ConversationService, db: Engine) -> None:
    talk(service, "hola", "1", "1", "1", "2")
    digits = PHONE.removeprefix("whatsapp:+")
    with db.connect() as connection:
        for table in inspect(connection).get_table_names():
            if table == "alembic_version":
                continue
            for row in connection.execute(text(f"SELECT * FROM {table}")):
                assert digits not in " ".join(str(v) for v in row), table


def test_two_people_do_not_see_each_other(service: ConversationService, db: Engine) -> None:
    talk(service, "hola", "1", "1", "1", who="whatsapp:+51900000001")
    talk(service, "hola", "2", "1", "2", who="whatsapp:+51900000002")
    with Session(db) as s:
        states = {c.language: c.instrument_id for c in s.exec(select(Conversation)).all()}
    assert states == {"es": "phq9", "en": "gad7"}


def test_long_and_empty_messages_are_handled(service: ConversationService, db: Engine) -> None:
    talk(service, "hola", "1", "1", "1")
    replies = talk(service, "x" * 10_000, "", "😀😀")
    assert len(replies) == 3 and all("Pregunta 1 de 9" in r for r in replies)
    with Session(db) as s:
        longest = max(len(m.text or "") for m in s.exec(select(InboundMessage)).all())
    assert longest == 10_000


def test_the_inactivity_expiry_uses_the_service_clock(
    service: ConversationService, clock: Clock
) -> None:
    talk(service, "hola", "1", "1", "1", "2")
    clock.now += timedelta(hours=30)
    replies = talk(service, "2")
    assert any("empezamos de nuevo" in r for r in replies)


def test_simulator_messages_are_left_to_their_request_unless_abandoned(
    service: ConversationService, clock: Clock
) -> None:
    service.receive(msg("hola"))  # channel "sim": answered by the request that sent it
    assert service.process_pending() == []
    clock.now += timedelta(minutes=1)  # ...unless that request died on it
    assert len(service.process_pending()) == 1
