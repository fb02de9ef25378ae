"""The conversation step's reads and writes, as SQL statements built once.

A step runs for every message a person sends, so its common path avoids the ORM's unit of
work: one joined read (the message, the person, their conversation), then plain UPDATE and
INSERT statements on the step's connection. The conversation's ``version`` is checked and
raised by hand (``SET version = version + 1 WHERE version = :seen``), as the ORM's
``version_id_col`` does wherever else a conversation is saved, so a concurrent change is
still detected (``StaleDataError``) and the step retried. The step's replies are queued with
the outbox's own prebuilt INSERT (``bot.outbox.queue.enqueue_many``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Connection, Table, and_, bindparam, insert, select, update
from sqlalchemy import case as sa_case
from sqlalchemy.orm.exc import StaleDataError

from bot.db.models import Conversation, InboundMessage, InboxStatus, Participant
from bot.db.tables import table_of

_INBOX: Table = table_of(InboundMessage)
_PEOPLE: Table = table_of(Participant)
_CONVERSATIONS: Table = table_of(Conversation)


@dataclass(slots=True)
class Person:
    id: int
    external_hash: str
    external_enc: str
    language: str
    last_inbound_at: datetime | None
    opted_out_at: datetime | None


@dataclass(slots=True)
class StoredConversation:
    id: int
    version: int
    state: str
    language: str
    instrument_id: str | None
    item_id: str | None
    answers: dict[str, str]
    plan: list[str]
    context: dict[str, Any]
    last_activity_at: datetime


@dataclass(slots=True)
class PendingMessage:
    """A person's oldest unprocessed message, with what the step needs to know about them."""

    id: int
    channel: str
    provider_message_id: str
    sender_hash: str
    sender_enc: str | None
    kind: str
    text: str | None
    payload: str | None
    received_at: datetime
    #: What was attached (``bot.flows.types.MediaKind``), if anything.
    media_kind: str | None
    person: Person | None
    conversation: StoredConversation | None


_MESSAGE_COLUMNS = (
    _INBOX.c.id,
    _INBOX.c.channel,
    _INBOX.c.provider_message_id,
    _INBOX.c.sender_hash,
    _INBOX.c.sender_enc,
    _INBOX.c.kind,
    _INBOX.c.text,
    _INBOX.c.payload,
    _INBOX.c.received_at,
    _INBOX.c.media_kind,
)
_PERSON_COLUMNS = (
    _PEOPLE.c.id,
    _PEOPLE.c.external_hash,
    _PEOPLE.c.external_enc,
    _PEOPLE.c.language,
    _PEOPLE.c.last_inbound_at,
    _PEOPLE.c.opted_out_at,
)
_CONVERSATION_COLUMNS = (
    _CONVERSATIONS.c.id,
    _CONVERSATIONS.c.version,
    _CONVERSATIONS.c.state,
    _CONVERSATIONS.c.language,
    _CONVERSATIONS.c.instrument_id,
    _CONVERSATIONS.c.item_id,
    _CONVERSATIONS.c.answers,
    _CONVERSATIONS.c.plan,
    _CONVERSATIONS.c.context,
    _CONVERSATIONS.c.last_activity_at,
)


class StepStore:
    """Prebuilt statements of the conversation step (SQLite and PostgreSQL)."""

    def __init__(self, postgres: bool) -> None:
        columns = [
            *(c.label(f"m_{c.name}") for c in _MESSAGE_COLUMNS),
            *(c.label(f"p_{c.name}") for c in _PERSON_COLUMNS),
            *(c.label(f"c_{c.name}") for c in _CONVERSATION_COLUMNS),
        ]
        joined = _INBOX.outerjoin(
            _PEOPLE,
            and_(
                _PEOPLE.c.channel == _INBOX.c.channel,
                _PEOPLE.c.external_hash == _INBOX.c.sender_hash,
            ),
        ).outerjoin(_CONVERSATIONS, _CONVERSATIONS.c.participant_id == _PEOPLE.c.id)
        next_pending = (
            select(*columns)
            .select_from(joined)
            .where(
                _INBOX.c.channel == bindparam("b_channel"),
                _INBOX.c.sender_hash == bindparam("b_sender"),
                _INBOX.c.status == InboxStatus.PENDING,
            )
            .order_by(_INBOX.c.id)
            .limit(1)
        )
        # PostgreSQL: the message row is locked too (the person's advisory lock is held).
        self._next_pending = next_pending.with_for_update(of=_INBOX) if postgres else next_pending
        self._new_person = insert(_PEOPLE).returning(_PEOPLE.c.id)
        self._finish_message = (
            update(_INBOX)
            .where(_INBOX.c.id == bindparam("b_id"))
            .values(
                participant_id=bindparam("b_person"),
                status=InboxStatus.DONE,
                processed_at=bindparam("b_now"),
                sender_enc=None,
                text=bindparam("b_text"),
                # The attachment's reference goes with the text, unless it joined a case.
                media_ref_enc=sa_case(
                    (bindparam("b_keep_media", type_=Boolean), _INBOX.c.media_ref_enc),
                    else_=None,
                ),
            )
        )
        self._touch_person = (
            update(_PEOPLE)
            .where(_PEOPLE.c.id == bindparam("b_id"))
            .values(language=bindparam("b_language"), last_inbound_at=bindparam("b_last"))
        )
        self._opt_out = (
            update(_PEOPLE)
            .where(_PEOPLE.c.id == bindparam("b_id"))
            .values(opted_out_at=bindparam("b_opted_out_at"))
        )
        self._new_conversation = insert(_CONVERSATIONS)
        self._save_conversation = (
            update(_CONVERSATIONS)
            .where(
                _CONVERSATIONS.c.id == bindparam("b_id"),
                _CONVERSATIONS.c.version == bindparam("b_version"),
            )
            .values(
                version=_CONVERSATIONS.c.version + 1,
                **{
                    name: bindparam(f"b_{name}")
                    for name in (
                        "state",
                        "language",
                        "instrument_id",
                        "item_id",
                        "answers",
                        "plan",
                        "context",
                        "last_activity_at",
                    )
                },
            )
        )

    # --- reads ------------------------------------------------------------------------------

    def next_pending(
        self, conn: Connection, channel: str, sender_hash: str
    ) -> PendingMessage | None:
        row = conn.execute(
            self._next_pending, {"b_channel": channel, "b_sender": sender_hash}
        ).first()
        if row is None:
            return None
        # By name: each dataclass field is named after its column, labelled with a prefix.
        fields = row._mapping
        message = {c.name: fields[f"m_{c.name}"] for c in _MESSAGE_COLUMNS}
        person = {c.name: fields[f"p_{c.name}"] for c in _PERSON_COLUMNS}
        conversation = {c.name: fields[f"c_{c.name}"] for c in _CONVERSATION_COLUMNS}
        return PendingMessage(
            **message,
            person=Person(**person) if person["id"] is not None else None,
            conversation=(
                StoredConversation(**conversation) if conversation["id"] is not None else None
            ),
        )

    # --- writes -----------------------------------------------------------------------------

    def new_person(self, conn: Connection, values: dict[str, Any]) -> int:
        return int(conn.execute(self._new_person, values).scalar_one())

    def finish_message(
        self,
        conn: Connection,
        message_id: int,
        person_id: int | None,
        now: datetime,
        text: str | None,
        *,
        keep_media: bool,
    ) -> None:
        conn.execute(
            self._finish_message,
            {
                "b_id": message_id,
                "b_person": person_id,
                "b_now": now,
                "b_text": text,
                "b_keep_media": keep_media,
            },
        )

    def save_person(self, conn: Connection, person: Person, *, opt_out_changed: bool) -> None:
        """Only what a step changes: the language, the last message time and, when the person
        asked, the opt-out (the dispatcher may mark an opt-out concurrently on PostgreSQL)."""
        conn.execute(
            self._touch_person,
            {"b_id": person.id, "b_language": person.language, "b_last": person.last_inbound_at},
        )
        if opt_out_changed:
            conn.execute(self._opt_out, {"b_id": person.id, "b_opted_out_at": person.opted_out_at})

    def save_conversation(
        self,
        conn: Connection,
        person_id: int,
        stored: StoredConversation | None,
        values: dict[str, Any],
    ) -> None:
        """Insert the person's conversation, or update it if nobody changed it since it was
        read; otherwise ``StaleDataError`` (a conflicting insert: ``IntegrityError``)."""
        if stored is None:
            conn.execute(
                self._new_conversation, {"participant_id": person_id, "version": 1, **values}
            )
            return
        params = {f"b_{name}": value for name, value in values.items()}
        result = conn.execute(
            self._save_conversation, {"b_id": stored.id, "b_version": stored.version, **params}
        )
        if result.rowcount != 1:
            raise StaleDataError("the conversation changed since it was read")
