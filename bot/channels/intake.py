"""The webhooks' durable intake: inbound messages recorded in group-committed batches.

A webhook answers 2xx only once its message is committed to the inbox (``inbound_message``).
Committing each message in its own transaction caps a SQLite server at a few hundred
messages per second, so concurrent deliveries are written together: the first request to
arrive starts a writer task, which takes every message waiting (up to ``max_batch``) and
commits them in one transaction on a worker thread; requests arriving meanwhile form the next
batch. Each request waits for its own batch's commit.

Exactly once: ``INSERT … ON CONFLICT (channel, provider_message_id) DO NOTHING RETURNING``
records the first delivery of a provider id and reports every repeat as a duplicate, also
when the repeats are in the same batch, in batches of another process, or concurrent on
PostgreSQL. (A Telegram button press is answered in the webhook's response: see
``bot.web.webhooks``.)
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnDefault, Connection, Engine, Table
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError

from bot.crypto import Cipher
from bot.db.engine import URGENT
from bot.db.models import InboundMessage
from bot.db.tables import table_of
from bot.flows.machine import CrisisDetector
from bot.flows.service import MAX_STORED_TEXT, Received, holds_crisis_words
from bot.flows.types import Inbound

log = logging.getLogger(__name__)

MAX_PAYLOAD = 256
#: The intake counts as saturated when this many requests wait for their commit, or when a
#: request waits longer than SLOW_COMMIT seconds on average (recent requests weigh most)…
SATURATED = 8
SLOW_COMMIT = 0.015
#: …and stays so for SATURATION_HOLD seconds after the last sign of it.
SATURATION_HOLD = 1.0

_INBOUND: Table = table_of(InboundMessage)


class IntakeUnavailable(RuntimeError):
    """The message could not be recorded (database down): answer 503 so the platform retries."""


_Waiter = tuple[Inbound, "asyncio.Future[Received]"]


class Intake:
    """Records deliveries durably, batching concurrent ones into one transaction."""

    def __init__(
        self,
        db: Engine,
        cipher: Cipher,
        detect_crisis: CrisisDetector,
        *,
        max_batch: int = 256,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.cipher = cipher
        #: Flags a message whose text holds crisis words (``urgent``): the crisis lane runs it
        #: ahead of the inbox queue, in whichever process it runs.
        self.detect_crisis = detect_crisis
        self.max_batch = max_batch
        self.on_commit = on_commit
        self._identities = _IdentityCache(cipher)
        self._waiting: list[_Waiter] = []
        self._unsettled = 0
        self._mean_wait = 0.0
        self._saturated_until = 0.0
        self._writer: asyncio.Task[None] | None = None
        self._insert = _InboxInsert(db)

    # --- async front ----------------------------------------------------------------------

    async def submit(self, inbound: Inbound) -> Received:
        """Record ``inbound``; returns once it is committed (or known as a duplicate)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Received] = loop.create_future()
        self._waiting.append((inbound, future))
        if self._writer is None or self._writer.done():
            self._writer = loop.create_task(self._drain(), name="intake-writer")
        self._unsettled += 1
        started = time.monotonic()
        try:
            return await future
        finally:
            self._unsettled -= 1
            self._note_wait(started, time.monotonic())

    def _note_wait(self, started: float, now: float) -> None:
        self._mean_wait += 0.1 * ((now - started) - self._mean_wait)
        if self._unsettled + 1 >= SATURATED or self._mean_wait > SLOW_COMMIT:
            self._saturated_until = now + SATURATION_HOLD

    def saturated(self) -> bool:
        """True while the webhooks are taking all they can (many requests waiting for their
        commit, or commits slow to come) and for a moment after: the background loops of this
        process should give way (``bot.loops``)."""
        if self._unsettled >= SATURATED:
            return True
        return time.monotonic() < self._saturated_until

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[: self.max_batch]
                del self._waiting[: self.max_batch]
                results: list[Received | IntakeUnavailable] = []
                try:
                    results = await self._write_batch([d for d, _ in batch])
                finally:
                    _settle(batch, results)  # whatever happened, no request waits forever
                if self.on_commit is not None and any(isinstance(r, Received) for r in results):
                    self.on_commit()
        finally:
            if self._waiting:  # left by an unexpected error: the next writer takes them
                self._writer = asyncio.get_running_loop().create_task(self._drain())

    async def _write_batch(self, deliveries: list[Inbound]) -> list[Received | IntakeUnavailable]:
        try:
            return list(await asyncio.to_thread(self.write, deliveries))
        except (DataError, IntegrityError) as err:
            if len(deliveries) == 1:
                # Only the error's class: its text carries the statement's parameters.
                log.error("an inbound message was refused by the database", extra=_error(err))
                return [IntakeUnavailable("the database refused the message")]
            # Keep one bad row from failing the others: record them one by one.
            log.warning("inbound batch refused; recording its messages one by one")
            return [(await self._write_batch([d]))[0] for d in deliveries]
        except SQLAlchemyError as err:
            log.error("inbound messages could not be recorded", extra=_error(err))
            return [IntakeUnavailable("the database is unavailable")] * len(deliveries)

    # --- the transaction -----------------------------------------------------------------

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
            key = (msg.channel, msg.provider_message_id)
            if key in seen:
                continue
            seen.add(key)
            if holds_crisis_words(msg, self.detect_crisis):
                urgent.add(key)
            rows.append(
                {
                    "channel": msg.channel,
                    "provider_message_id": msg.provider_message_id,
                    "sender_hash": sender_hash,
                    "sender_enc": sender_enc,
                    "participant_id": None,
                    "kind": msg.kind,
                    "text": _clean(msg.text[:MAX_STORED_TEXT]) if msg.text else None,
                    "payload": _clean(msg.payload[:MAX_PAYLOAD]) if msg.payload else None,
                    **media_columns(msg, self.cipher),
                    "urgent": key in urgent,
                    "status": "pending",
                    "attempts": 0,
                    "error": None,
                    "received_at": msg.received_at,
                    "processed_at": None,
                }
            )
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


def usable(inbound: Inbound) -> Inbound:
    """``inbound`` with content of the wrong type (a list or an object where text or a
    button payload belongs, whatever a channel let through) recorded as ``unsupported``: the
    person is asked for text, and the messages written beside it are not failed."""
    text_ok = isinstance(inbound.text, str)
    payload_ok = inbound.payload is None or isinstance(inbound.payload, str)
    if text_ok and payload_ok:
        return inbound
    return replace(inbound, text="", payload=None, kind="unsupported")


def _error(err: SQLAlchemyError) -> dict[str, str]:
    """What may be logged of a database error: its classes, never its message (which holds
    the statement's parameters: message text, encrypted identifiers)."""
    original = getattr(err, "orig", None)
    return {"error": type(err).__name__, "cause": type(original).__name__ if original else ""}


def _settle(batch: list[_Waiter], results: list[Received | IntakeUnavailable]) -> None:
    for index, (_, future) in enumerate(batch):
        if future.done():  # the request went away; its message is recorded all the same
            continue
        result = results[index] if index < len(results) else None
        if isinstance(result, Received):
            future.set_result(result)
        else:
            future.set_exception(result or IntakeUnavailable("the message was not recorded"))


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


def _clean(text: str) -> str:
    """Text every database accepts: no NUL characters, no unpaired surrogates."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text
