"""A running escalation: the real runtime on a test database, a controllable clock, a roster
file, and helpers to talk as a person or as a psychologist and to read what was queued."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.db.models import OutboundMessage
from bot.escalation import timers
from bot.escalation.models import Case, CaseEvent, EscalationStep
from bot.flows import Inbound
from bot.flows.step_hooks import StepOutcome
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings, load_settings

SECRET_KEY = "escalation-tests-secret-key-0123456789abcdef"
BOT_TOKEN = "123456789:AAFakeTokenForTheOfflineBotApi_0123456"
ANA, LUIS, ROSA = 900000001, 900000002, 900000004
PERSON = 555001
#: Thursday 2026-11-19 15:00 in Lima (UTC-5): inside working hours.
T0 = datetime(2026, 11, 19, 20, 0, tzinfo=UTC)

#: Ana primary, Luis backup, Rosa supervisor, around the clock.
ROSTER: dict[str, Any] = {
    "psychologists": [
        {"id": "ana", "name": "Ana Test", "contacts": {"telegram_chat_id": ANA}},
        {"id": "luis", "name": "Luis Test", "contacts": {"telegram_chat_id": LUIS}},
        {"id": "rosa", "name": "Rosa Test", "contacts": {"telegram_chat_id": ROSA}},
    ],
    "supervisors": ["rosa"],
    "shifts": [
        {
            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "start": "00:00",
            "end": "00:00",
            "primary": "ana",
            "backup": "luis",
        }
    ],
}


class Clock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def write_roster(path: Path, data: dict[str, Any] | None = None) -> Path:
    path.write_text(yaml.safe_dump(data if data is not None else ROSTER), encoding="utf-8")
    return path


def make_settings(database_url: str, oncall_file: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "secret_key": SECRET_KEY,
        "oncall_file": oncall_file,
        "telegram_bot_token": BOT_TOKEN,
        "run_workers_in_server": False,
        "log_level": "WARNING",
    }
    values.update(overrides)
    return load_settings(**values)


_ids = itertools.count(1)


@dataclass
class Desk:
    """The service as the tests drive it."""

    runtime: Runtime
    clock: Clock
    seen: set[int] = field(default_factory=set)

    @classmethod
    def build(cls, settings: Settings, db: Engine, clock: Clock) -> Desk:
        runtime = build_runtime(settings, db=db)
        runtime.conversations.clock = clock
        runtime.escalation.clock = clock
        return cls(runtime, clock)

    @property
    def db(self) -> Engine:
        return self.runtime.db

    # --- talking --------------------------------------------------------------------------

    def send(self, chat: int, text: str = "", payload: str | None = None) -> StepOutcome:
        return self.runtime.conversations.handle(
            Inbound(
                channel="telegram",
                external_id=str(chat),
                provider_message_id=f"esc-{next(_ids)}",
                received_at=self.clock(),
                text=text,
                payload=payload,
            )
        )

    def say(self, chat: int, *texts: str) -> list[str]:
        replies: list[str] = []
        for text in texts:
            replies.extend(r.text for r in self.send(chat, text).replies)
        return replies

    def to_menu(self, chat: int = PERSON) -> None:
        self.say(chat, "hola", "1", "1")

    def tick(self) -> timers.TickReport:
        return timers.tick(self.runtime.escalation)

    # --- reading --------------------------------------------------------------------------

    def outbox(self, purpose: str | None = None, chat: int | None = None) -> list[OutboundMessage]:
        with Session(self.db) as session:
            query = select(OutboundMessage).order_by(col(OutboundMessage.id))
            if purpose is not None:
                query = query.where(OutboundMessage.purpose == purpose)
            rows = list(session.exec(query))
        if chat is None:
            return rows
        cipher = self.runtime.cipher
        return [r for r in rows if r.recipient_enc and cipher.decrypt(r.recipient_enc) == str(chat)]

    def new_alerts(self) -> dict[int, list[str]]:
        """Alerts queued since the last call, by Telegram chat."""
        found: dict[int, list[str]] = {}
        for row in self.outbox("alert"):
            if row.id in self.seen or row.id is None:
                continue
            self.seen.add(row.id)
            chat = int(self.runtime.cipher.decrypt(row.recipient_enc or ""))
            found.setdefault(chat, []).append(row.text)
        return found

    def cases(self) -> list[Case]:
        with Session(self.db) as session:
            return list(session.exec(select(Case).order_by(col(Case.id))))

    def case(self) -> Case:
        cases = self.cases()
        assert len(cases) == 1, cases
        return cases[0]

    def events(self, case_id: int) -> list[str]:
        with Session(self.db) as session:
            rows = session.exec(
                select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(col(CaseEvent.id))
            )
            return [e.kind for e in rows]

    def steps(self, case_id: int) -> list[EscalationStep]:
        with Session(self.db) as session:
            return list(
                session.exec(
                    select(EscalationStep)
                    .where(EscalationStep.case_id == case_id)
                    .order_by(col(EscalationStep.step_index))
                )
            )
