"""Exports of completed screenings: CSV (one row per screening) and FHIR R4.

FHIR: a ``collection`` Bundle with, per screening, a QuestionnaireResponse (answers coded
with the LOINC answer codes from the instrument files where they exist) and score
Observations (total, or the categorical result) coded with the instrument's LOINC code.
People appear only by their pseudonym: no phone number or chat id is ever exported.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.content import Content
from bot.dashboard.accounts import record_event
from bot.db.models import Participant, Screening
from bot.instruments.schema import Instrument

LOINC = "http://loinc.org"
PSEUDONYM_SYSTEM = "urn:screening-bot:pseudonym"
LOCAL_SYSTEM = "urn:screening-bot"
SURVEY = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "survey",
            "display": "Survey",
        }
    ]
}
_NAMESPACE = uuid.UUID("6f1c7a9e-4a53-4c55-9b1e-3c2f6d1b8e01")
CSV_FIXED = [
    "screening_id",
    "pseudonym",
    "channel",
    "language",
    "instrument",
    "instrument_version",
    "started_at",
    "completed_at",
    "total",
    "max_total",
    "band",
    "result",
    "positive",
    "flags",
]


@dataclass(frozen=True)
class Row:
    screening: Screening
    pseudonym: str
    channel: str


def rows(db: Engine, since: datetime, until: datetime | None = None) -> Iterator[Row]:
    """Completed screenings in ``[since, until)``, oldest first."""
    with Session(db) as session:
        query = (
            select(Screening, Participant.pseudonym, Participant.channel)
            .join(Participant, col(Participant.id) == Screening.participant_id)
            .where(Screening.completed_at >= since)
            .order_by(col(Screening.completed_at), col(Screening.id))
        )
        if until is not None:
            query = query.where(Screening.completed_at < until)
        for screening, pseudonym, channel in session.exec(query):
            yield Row(screening, pseudonym, channel)


def _cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def item_columns(content: Content) -> list[str]:
    columns: list[str] = []
    for instrument_id in sorted(content.instruments):
        for item in content.instruments[instrument_id].items:
            if item.id not in columns:
                columns.append(item.id)
    return columns


def to_csv(content: Content, data: Iterator[Row]) -> str:
    items = item_columns(content)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_FIXED + items)
    for row in data:
        s = row.screening
        flags = ";".join(str(f.get("flag", "")) for f in s.flags)
        fixed = [
            s.id,
            row.pseudonym,
            row.channel,
            s.language,
            s.instrument_id,
            s.instrument_version,
            _iso(s.started_at),
            _iso(s.completed_at),
            s.total,
            s.max_total,
            s.band,
            s.result,
            "true" if s.positive else "false",
            flags,
        ]
        writer.writerow([_cell(v) for v in fixed] + [_cell(s.answers.get(i)) for i in items])
    return out.getvalue()


# --- FHIR ------------------------------------------------------------------------------------


def _uuid(kind: str, screening_id: int | None) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{screening_id}"))


def _subject(pseudonym: str) -> dict[str, Any]:
    return {"identifier": {"system": PSEUDONYM_SYSTEM, "value": pseudonym}, "display": pseudonym}


def _questionnaire(instrument: Instrument | None, screening: Screening) -> str:
    if instrument is not None and instrument.loinc.panel:
        return f"{LOINC}/q/{instrument.loinc.panel}"
    return f"{LOCAL_SYSTEM}:questionnaire:{screening.instrument_id}|{screening.instrument_version}"


def _answer_coding(instrument: Instrument, item_id: str, code: str, lang: str) -> dict[str, Any]:
    item = instrument.item(item_id)
    option = next((o for o in instrument.options_for(item) if o.code == code), None)
    if option is None:
        return {"system": f"{LOCAL_SYSTEM}:{instrument.id}:answer", "code": code}
    if option.loinc:
        return {"system": LOINC, "code": option.loinc, "display": option.label.get(lang)}
    return {
        "system": f"{LOCAL_SYSTEM}:{instrument.id}:{item.options}",
        "code": option.code,
        "display": option.label.get(lang),
    }


def questionnaire_response(content: Content, row: Row) -> dict[str, Any]:
    s = row.screening
    instrument = content.instruments.get(s.instrument_id)
    items: list[dict[str, Any]] = []
    if instrument is not None:
        for item in instrument.items:
            code = s.answers.get(item.id)
            if code is None:
                continue
            entry: dict[str, Any] = {
                "linkId": item.id,
                "text": item.text.get(s.language),
                "answer": [{"valueCoding": _answer_coding(instrument, item.id, code, s.language)}],
            }
            if item.loinc:
                entry["definition"] = f"{LOINC}/{item.loinc}"
            items.append(entry)
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": f"screening-{s.id}",
        "identifier": {"system": f"{LOCAL_SYSTEM}:screening", "value": str(s.id)},
        "questionnaire": _questionnaire(instrument, s),
        "status": "completed",
        "subject": _subject(row.pseudonym),
        "authored": _iso(s.completed_at),
        "item": items,
    }
    if not items:
        del resource["item"]
    return resource


def _code(
    instrument: Instrument | None, loinc_code: str | None, local: str, text: str
) -> dict[str, Any]:
    coding = [{"system": f"{LOCAL_SYSTEM}:score", "code": local}]
    if loinc_code:
        coding.insert(0, {"system": LOINC, "code": loinc_code})
    return {"coding": coding, "text": text}


def observations(content: Content, row: Row, qr_url: str) -> list[dict[str, Any]]:
    """The score Observations of a screening: the total and/or the categorical result."""
    s = row.screening
    instrument = content.instruments.get(s.instrument_id)
    name = instrument.name if instrument else s.instrument_id
    common: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "category": [SURVEY],
        "subject": _subject(row.pseudonym),
        "effectiveDateTime": _iso(s.completed_at),
        "derivedFrom": [{"reference": qr_url}],
    }
    found: list[dict[str, Any]] = []
    if s.total is not None:
        loinc_code = instrument.loinc.total if instrument else None
        obs = {
            **common,
            "id": f"screening-{s.id}-total",
            "code": _code(
                instrument, loinc_code, f"{s.instrument_id}.total", f"{name} total score"
            ),
            "valueInteger": s.total,
        }
        if s.band:
            obs["interpretation"] = [
                {"coding": [{"system": f"{LOCAL_SYSTEM}:{s.instrument_id}:band", "code": s.band}]}
            ]
        found.append(obs)
    if s.result is not None:
        loinc_code = instrument.loinc.result if instrument else None
        found.append(
            {
                **common,
                "id": f"screening-{s.id}-result",
                "code": _code(
                    instrument, loinc_code, f"{s.instrument_id}.result", f"{name} result"
                ),
                "valueCodeableConcept": {
                    "coding": [
                        {"system": f"{LOCAL_SYSTEM}:{s.instrument_id}:result", "code": s.result}
                    ]
                },
            }
        )
    return found


def to_fhir_bundle(content: Content, data: Iterator[Row], now: datetime) -> dict[str, Any]:
    entries: list[dict[str, Any]] = []
    for row in data:
        qr_url = f"urn:uuid:{_uuid('qr', row.screening.id)}"
        entries.append({"fullUrl": qr_url, "resource": questionnaire_response(content, row)})
        for obs in observations(content, row, qr_url):
            entries.append(
                {"fullUrl": f"urn:uuid:{_uuid(obs['id'], row.screening.id)}", "resource": obs}
            )
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": _iso(now),
        "entry": entries,
    }


def to_fhir_json(content: Content, data: Iterator[Row], now: datetime) -> str:
    return json.dumps(to_fhir_bundle(content, data, now), ensure_ascii=False, indent=1)


def audit(db: Engine, actor: str, fmt: str, since: str, until: str, ip: str | None = None) -> None:
    """Exports hold every screening of a period: each one is written to the access log."""
    with Session(db) as session:
        record_event(session, "export", actor, ip=ip, format=fmt, since=since, until=until)
        session.commit()
