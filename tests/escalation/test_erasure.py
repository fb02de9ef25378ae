"""Erasure that erases: after BORRAR, or after refusing consent, no word the person typed and
no identifier of theirs is left in ANY table (every table of the metadata is read), on
SQLite and PostgreSQL; the case keeps what a psychologist needs (rule, priority, times)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import Session, SQLModel
from sqlmodel import select as sql_select

from bot.channels.telegram.sender import TelegramSender
from bot.crypto import InvalidToken
from bot.db.models import Consent, InboundMessage, Participant
from bot.delivery.dispatcher import Dispatcher
from bot.escalation import service
from bot.escalation.models import Case
from tests.delivery.support import FAST, drain
from tests.escalation.support import LUIS, Desk
from tests.fakes import fixtures
from tests.fakes.loopback import LoopbackGuard
from tests.fakes.telegram_api import FakeTelegramApi

telegram_api = fixtures.telegram_api
loopback_only = fixtures.loopback_only

CHAT = 987650321
CRISIS = "hoy me quiero matar, no aguanto más"
#: Words only this person typed: none may be left anywhere afterwards.
TYPED = ("Zanahorio", "quiero matar", "no aguanto", "mi mamá Gertrudis")


@pytest.fixture
async def telegram(
    telegram_api: FakeTelegramApi, loopback_only: LoopbackGuard
) -> AsyncIterator[TelegramSender]:
    sender = TelegramSender(telegram_api.token, telegram_api.base_url)
    sender.limits = FAST
    yield sender
    await sender.close()


def leftovers(desk: Desk, chat: int, needles: Iterable[str]) -> list[tuple[str, str, str]]:
    """(table, column, what) for every cell of every table that holds one of ``needles``,
    the chat id, its lookup hash, or a value that decrypts to the chat id."""
    cipher = desk.runtime.cipher
    found: list[tuple[str, str, str]] = []
    lookup = cipher.lookup_hash("telegram", str(chat))
    wanted = [*needles, str(chat), lookup]
    with desk.db.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            for row in connection.execute(select(table)).mappings():
                for column, value in row.items():
                    cell = str(value)
                    found += [(table.name, column, n) for n in wanted if n and n in cell]
                    if isinstance(value, str) and value.startswith("gAAAA"):
                        try:
                            if cipher.decrypt(value) == str(chat):
                                found.append((table.name, column, "encrypted chat id"))
                        except InvalidToken:
                            pass
    return found


async def send_everything(desk: Desk, telegram: TelegramSender) -> None:
    dispatcher = Dispatcher(desk.db, desk.runtime.cipher, {"telegram": telegram}, clock=desk.clock)
    await drain(dispatcher)


def sent_to(api: FakeTelegramApi, chat: int) -> list[str]:
    return [str(c.params["text"]) for c in api.calls("sendMessage") if c.params["chat_id"] == chat]


async def test_borrar_leaves_no_word_and_no_identifier_in_any_table(
    desk: Desk, telegram: TelegramSender, telegram_api: FakeTelegramApi
) -> None:
    desk.to_menu(CHAT)
    desk.say(CHAT, CRISIS, "2")  # crisis words, then "not right now"
    desk.tick()  # a case, alerts quoting the words
    case_id = desk.case().id or 0
    with Session(desk.db) as session:
        person = session.exec(sql_select(Participant)).one()
        pseudonym = person.pseudonym
    esc = desk.runtime.escalation
    # Luis writes to the person; what the person answers is relayed to him.
    assert service.send_to_person(esc, case_id, "luis", "Hola, soy Luis.").name
    desk.say(CHAT, "gracias, mi gato Zanahorio y mi mamá Gertrudis están conmigo")
    await send_everything(desk, telegram)
    assert any("Zanahorio" in t for t in sent_to(telegram_api, LUIS))  # relayed, then erased
    # (while a psychologist talks with the person, what they write goes to the psychologist)
    assert service.resolve(esc, case_id, "luis", "contacted").name == "RESOLVED"
    before = desk.case()

    replies = desk.say(CHAT, "borrar", "1")
    assert any("borrados" in r for r in replies)
    await send_everything(desk, telegram)
    # The confirmation reached the person, then nothing about them was kept.
    assert any("borrados" in t for t in sent_to(telegram_api, CHAT))
    assert leftovers(desk, CHAT, [*TYPED, pseudonym]) == []

    # The case keeps what a psychologist needs, without the words.
    case = desk.case()
    assert case.participant_id is None and case.person_deleted_at is not None
    assert (case.priority, case.opened_at, case.status) == (
        before.priority,
        before.opened_at,
        before.status,
    )
    assert case.reason.startswith("text.") and "«" not in case.reason
    assert [s["rule"] for s in case.snapshot["signals"]] == [
        s["rule"] for s in before.snapshot["signals"]
    ]

    # Writing again: a new person, with a new pseudonym, linked to nothing before.
    desk.say(CHAT, "hola")
    with Session(desk.db) as session:
        again = session.exec(sql_select(Participant)).one()
        cases = session.exec(sql_select(Case)).all()
    assert again.pseudonym != pseudonym
    assert [c.participant_id for c in cases] == [None]
    # Only the new person's own rows know them; nothing from before points at them.
    kept = leftovers(desk, CHAT, [*TYPED, pseudonym])
    assert {table for table, _, _ in kept} <= {"participant", "inbound_message", "outbound_message"}
    assert all(what not in (pseudonym, *TYPED) for _, _, what in kept)
    with Session(desk.db) as session:
        assert (
            len(
                session.exec(
                    sql_select(InboundMessage).where(InboundMessage.participant_id == again.id)
                ).all()
            )
            == 1
        )


async def test_refusing_consent_keeps_only_the_refusal(
    desk: Desk, telegram: TelegramSender, telegram_api: FakeTelegramApi
) -> None:
    desk.say(CHAT, "hola, soy Zanahorio y quiero ayuda")
    desk.say(CHAT, "1")  # Español (the language is asked before consent)
    replies = desk.say(CHAT, "no")  # "No acepto"
    assert replies
    await send_everything(desk, telegram)
    assert sent_to(telegram_api, CHAT)[-1] == replies[-1]  # the refusal reply went out
    assert leftovers(desk, CHAT, ["Zanahorio"]) == []
    with Session(desk.db) as session:
        refusals = session.exec(sql_select(Consent)).all()
        assert [(c.given, c.participant_id) for c in refusals] == [(False, None)]
        assert session.exec(sql_select(Participant)).all() == []
    content: dict[str, Any] = {}
    with desk.db.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            content[table.name] = connection.execute(select(table)).all()
    # Only the refusal, and the inbox ids (without text or sender) that recognise a
    # redelivery.
    kept = {name for name, rows in content.items() if rows}
    assert kept == {"consent", "inbound_message"}
    assert all(row.text is None and row.sender_enc is None for row in content["inbound_message"])
