"""What the dashboard shows about a person: profile, screenings and transcript.

Read-only queries over the conversation tables. The phone number or chat id is decrypted
only by :func:`reveal_identifier`, which the case page calls on an explicit, audited
request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.content import Content
from bot.crypto import Cipher, InvalidToken
from bot.db.models import InboundMessage, OutboundMessage, Participant, Screening
from bot.flows.types import MEDIA_KINDS

MAX_TRANSCRIPT = 500


@dataclass(frozen=True)
class Person:
    id: int
    pseudonym: str
    channel: str
    language: str
    created_at: datetime
    last_inbound_at: datetime | None
    opted_out: bool
    unreachable: bool


@dataclass(frozen=True)
class AnswerView:
    item_id: str
    question: str
    answer: str
    value: int | None


@dataclass(frozen=True)
class ScreeningView:
    id: int
    instrument_id: str
    instrument_name: str
    completed_at: datetime
    language: str
    total: int | None
    max_total: int | None
    band: str | None
    result: str | None
    positive: bool
    flags: list[str]
    answers: list[AnswerView] = field(default_factory=list)


@dataclass(frozen=True)
class Line:
    """One message of the transcript: ``who`` is person, bot or staff."""

    key: str
    at: datetime
    who: str
    text: str
    status: str | None = None
    #: A file the person sent (its kind), and the message to open it by when it is kept.
    media: str | None = None
    media_id: int | None = None


def person(db: Engine, participant_id: int) -> Person | None:
    with Session(db) as session:
        row = session.get(Participant, participant_id)
        if row is None:
            return None
        return Person(
            id=row.id or 0,
            pseudonym=row.pseudonym,
            channel=row.channel,
            language=row.language,
            created_at=row.created_at,
            last_inbound_at=row.last_inbound_at,
            opted_out=row.opted_out_at is not None,
            unreachable=row.unreachable_at is not None,
        )


def reveal_identifier(db: Engine, cipher: Cipher, participant_id: int) -> str | None:
    with Session(db) as session:
        row = session.get(Participant, participant_id)
        if row is None:
            return None
        try:
            return cipher.decrypt(row.external_enc)
        except InvalidToken:
            return None


def answer_views(content: Content, screening: Screening, lang: str) -> list[AnswerView]:
    instrument = content.instruments.get(screening.instrument_id)
    views: list[AnswerView] = []
    if instrument is None:
        return [AnswerView(k, k, v, None) for k, v in screening.answers.items()]
    for item in instrument.items:
        code = screening.answers.get(item.id)
        if code is None:
            continue
        option = next((o for o in instrument.options_for(item) if o.code == code), None)
        label = option.label.get(lang) if option else code
        views.append(
            AnswerView(item.id, item.text.get(lang), label, option.value if option else None)
        )
    return views


def _flags(stored: object) -> list[str]:
    """The flag (or rule) of each stored entry; entries of another shape are skipped."""
    if not isinstance(stored, list):
        return []
    names = (f.get("flag") or f.get("rule") for f in stored if isinstance(f, dict))
    return [str(n) for n in names if n]


def screenings(db: Engine, content: Content, participant_id: int, lang: str) -> list[ScreeningView]:
    with Session(db) as session:
        rows = session.exec(
            select(Screening)
            .where(Screening.participant_id == participant_id)
            .order_by(col(Screening.completed_at).desc(), col(Screening.id).desc())
        ).all()
    views: list[ScreeningView] = []
    for row in rows:
        instrument = content.instruments.get(row.instrument_id)
        views.append(
            ScreeningView(
                id=row.id or 0,
                instrument_id=row.instrument_id,
                instrument_name=instrument.short_name.get(lang)
                if instrument
                else row.instrument_id,
                completed_at=row.completed_at,
                language=row.language,
                total=row.total,
                max_total=row.max_total,
                band=row.band,
                result=row.result,
                positive=row.positive,
                flags=_flags(row.flags),
                answers=answer_views(content, row, lang),
            )
        )
    return views


def transcript(db: Engine, participant_id: int, staff_purposes: frozenset[str]) -> list[Line]:
    """The person's messages and ours, oldest first (the newest ``MAX_TRANSCRIPT``)."""
    with Session(db) as session:
        inbound = session.exec(
            select(InboundMessage)
            .where(InboundMessage.participant_id == participant_id)
            .order_by(col(InboundMessage.id).desc())
            .limit(MAX_TRANSCRIPT)
        ).all()
        outbound = session.exec(
            select(OutboundMessage)
            .where(OutboundMessage.participant_id == participant_id)
            .order_by(col(OutboundMessage.id).desc())
            .limit(MAX_TRANSCRIPT)
        ).all()
    lines = [
        Line(
            f"i{m.id}",
            m.received_at,
            "person",
            m.text if m.text is not None else "",
            media=m.media_kind if m.media_kind in MEDIA_KINDS else None,
            media_id=m.id if m.media_ref_enc and m.media_kind != "other" else None,
        )
        for m in inbound
    ]
    lines += [
        Line(
            f"o{m.id}",
            m.created_at,
            "staff" if m.purpose in staff_purposes else "bot",
            m.text,
            m.status,
        )
        for m in outbound
    ]
    lines.sort(key=lambda line: (line.at, line.key))
    return lines[-MAX_TRANSCRIPT:]
