"""The inbox's one recorder: every inbound message, from a webhook or a simulator, becomes
one ``inbound_message`` row by the same cleaning rule.

Cleaning: content of the wrong type (a list where text belongs) is recorded as
``unsupported``; text is cut to ``MAX_STORED_TEXT`` and a button payload to ``MAX_PAYLOAD``;
NUL characters and unpaired surrogates are removed (no database takes them); the sender's
identifier is kept only as a lookup hash and encrypted; an attachment's platform reference
is encrypted. A message whose text holds crisis words is flagged ``urgent`` (the crisis lane
runs it ahead of the inbox queue, ``bot.escalation.fastlane``).

Exactly once: ``INSERT … ON CONFLICT (channel, provider_message_id) DO NOTHING RETURNING``
records the first delivery of a provider id and reports every repeat as a duplicate, also
when the repeats are in the same batch, in batches of another process, or concurrent on
PostgreSQL. The webhooks' batching in front of this is ``bot.channels.intake``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ColumnDefault, Connection, Engine, Table

from bot.crypto import Cipher
from bot.db.engine import URGENT
from bot.db.models import InboundMessage, InboxStatus
from bot.db.tables import table_of
from bot.flows.machine import CrisisDetector
from bot.flows.types import Inbound

#: Longest text kept for a message (a 10 kB paste is cut, never refused).
MAX_STORED_TEXT = 10_000
#: Longest button payload kept (the column's size).
MAX_PAYLOAD = 256

_INBOUND: Table = table_of(InboundMessage)


@dataclass(frozen=True, slots=True)
class Received:
    """The result of recording an inbound message: its row id, or a known duplicate."""

    inbound_id: int | None
    channel: str
    sender_hash: str
    #: Crisis words were found in the message (the crisis lane runs it first).
    urgent: bool = False

    @property
    def duplicate(self) -> bool:
        return self.inbound_id is None


def holds_crisis_words(msg: Inbound, detect: CrisisDetector) -> bool:
    """Whether ``msg`` is recorded ``urgent``: its text holds crisis words."""
    return msg.kind == "text" and bool(msg.text) and detect(msg.text) is not None


class InboxRecorder:
    """Records inbound messages, many in one transaction; repeats come back as duplicates."""

    def __init__(self, db: Engine, cipher: Cipher, detect_crisis: CrisisDetector) -> None:
        self.db = db
        self.cipher = cipher
        self.detect_crisis = detect_crisis
        self._identities = _IdentityCache(cipher)
        self._insert = _InboxInsert(db)

    def receive(self, msg: Inbound) -> Received:
        """Record one message (a simulator's): as ``write`` does for a webhook batch."""
        return self.write([msg])[0]

    def write(self, deliveries: Sequence[Inbound]) -> list[Received]:
        """Record ``deliveries`` in one transaction; repeats come back as duplicates."""
        rows: list[dict[str, Any]] = []
        hashes: list[str] = []
        seen: set[tuple[str, str]] = set()
        urgent: set[tuple[str, str]] = set()
        for given in deliveries:
            msg = usable(given)
            sender_hash, sender_enc = self._identities.get(msg.channel, msg.external_id)
            hashes.append(sender_hash)
            key = _key(msg)
            if key in seen:
                continue
            seen.add(key)
            if holds_crisis_words(msg, self.detect_crisis):
                urgent.add(key)
            rows.append(self._row(msg, sender_hash, sender_enc, key in urgent))
        with self.db.connect() as connection:
            connection.execution_options(**{URGENT: True})  # SQLite: before the loops
            with connection.begin():
                inserted = {
                    (row.channel, row.provider_message_id): row.id
                    for row in self._insert(connection, rows)
                }
        results: list[Received] = []
        claimed: set[tuple[str, str]] = set()
        for msg, sender_hash in zip(deliveries, hashes, strict=True):
            key = _key(msg)
            inbound_id = inserted.get(key) if key not in claimed else None
            claimed.add(key)
            results.append(Received(inbound_id, msg.channel, sender_hash, key in urgent))
        return results

    def _row(self, msg: Inbound, sender_hash: str, sender_enc: str, urgent: bool) -> dict[str, Any]:
        return {
            "channel": msg.channel,
            "provider_message_id": msg.provider_message_id,
            "sender_hash": sender_hash,
            "sender_enc": sender_enc,
            "participant_id": None,
            "kind": msg.kind,
            "text": clean(msg.text[:MAX_STORED_TEXT]) if msg.text else None,
            "payload": clean(msg.payload[:MAX_PAYLOAD]) if msg.payload else None,
            **media_columns(msg, self.cipher),
            "urgent": urgent,
            "status": InboxStatus.PENDING,
            "attempts": 0,
            "error": None,
            "received_at": msg.received_at,
            "processed_at": None,
        }


def usable(inbound: Inbound) -> Inbound:
    """``inbound`` with content of the wrong type (a list or an object where text or a
    button payload belongs, whatever a channel let through) recorded as ``unsupported``: the
    person is asked for text, and the messages written beside it are not failed."""
    text_ok = isinstance(inbound.text, str)
    payload_ok = inbound.payload is None or isinstance(inbound.payload, str)
    if text_ok and payload_ok:
        return inbound
    return replace(inbound, text="", payload=None, kind="unsupported")


def clean(text: str) -> str:
    """Text every database accepts: no NUL characters, no unpaired surrogates."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def media_columns(msg: Inbound, cipher: Cipher) -> dict[str, str | None]:
    """The inbox columns of ``msg``'s attachment; the platform reference is encrypted."""
    media = msg.media
    if media is None:
        return {"media_kind": None, "media_type": None, "media_ref_enc": None}
    return {
        "media_kind": media.kind,
        "media_type": media.content_type,
        "media_ref_enc": cipher.encrypt(media.ref) if media.ref else None,
    }


def _key(inbound: Inbound) -> tuple[str, str]:
    return (inbound.channel, inbound.provider_message_id)


class _InboxInsert:
    """``INSERT … VALUES (…), (…) ON CONFLICT (channel, provider_message_id) DO NOTHING
    RETURNING`` for a whole batch, as one driver-level statement (SQLite and PostgreSQL).

    The per-row work of SQLAlchemy's executemany was most of the cost of recording a
    message; here values go through the columns' own bind processors (so they are stored
    exactly as the ORM stores them) and the SQL text is built once per batch size. Columns
    not given get their scalar default (or NULL)."""

    def __init__(self, db: Engine) -> None:
        dialect = db.dialect
        marks = {"qmark": "?", "format": "%s", "pyformat": "%s"}
        if dialect.paramstyle not in marks:
            raise ValueError(f"unsupported driver parameter style {dialect.paramstyle}")
        self.columns = [c for c in _INBOUND.columns if c.key != "id"]
        self.processors = [
            c.type.dialect_impl(dialect).bind_processor(dialect) for c in self.columns
        ]
        self.defaults = [
            c.default.arg if isinstance(c.default, ColumnDefault) and c.default.is_scalar else None
            for c in self.columns
        ]
        preparer = dialect.identifier_preparer
        names = ", ".join(preparer.quote(c.name) for c in self.columns)
        self.row = "(" + ", ".join([marks[dialect.paramstyle]] * len(self.columns)) + ")"
        self.prefix = f"INSERT INTO {preparer.format_table(_INBOUND)} ({names}) VALUES "
        self.suffix = (
            " ON CONFLICT (channel, provider_message_id) DO NOTHING"
            " RETURNING id, channel, provider_message_id"
        )
        self._sql: dict[int, str] = {}

    def sql(self, rows: int) -> str:
        text = self._sql.get(rows)
        if text is None:
            text = self._sql[rows] = self.prefix + ", ".join([self.row] * rows) + self.suffix
        return text

    def __call__(self, connection: Connection, rows: list[dict[str, Any]]) -> Any:
        params: list[Any] = []
        for row in rows:
            for column, process, default in zip(
                self.columns, self.processors, self.defaults, strict=True
            ):
                value = row.get(column.name, default)
                params.append(
                    process(value) if process is not None and value is not None else value
                )
        return connection.exec_driver_sql(self.sql(len(rows)), tuple(params))


class _IdentityCache:
    """``(channel, external id)`` → (lookup hash, encrypted id), for the people who wrote
    lately: encrypting is the costliest part of recording a message, and a person writes
    many messages in a row. Reusing one encryption of the same id reveals nothing more than
    the lookup hash already does."""

    def __init__(self, cipher: Cipher, size: int = 20_000) -> None:
        self.cipher = cipher
        self.size = size
        self._entries: dict[tuple[str, str], tuple[str, str]] = {}

    def get(self, channel: str, external_id: str) -> tuple[str, str]:
        key = (channel, external_id)
        found = self._entries.get(key)
        if found is None:
            found = (
                self.cipher.lookup_hash(channel, external_id),
                self.cipher.encrypt(external_id),
            )
            if len(self._entries) >= self.size:
                self._entries.pop(next(iter(self._entries)))  # the oldest entry
            self._entries[key] = found
        return found
