"""A scripted conversation with the engine (no database): say things, read the replies."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.content import Content
from bot.flows import ConvState, Engine, Inbound, State
from bot.flows.concern import ConcernDetector
from bot.flows.machine import CrisisDetector
from bot.flows.state import Step
from bot.flows.types import Effect
from bot.flows.waiting import ExpectMinutes
from bot.outbox.reply import Reply

_ids = itertools.count(1)


@dataclass
class EngineChat:
    content: Content
    detect_crisis: CrisisDetector | None = None
    detect_concern: ConcernDetector | None = None
    expect_minutes: ExpectMinutes | None = None
    now: datetime = field(default_factory=lambda: datetime(2026, 11, 22, 12, 0, tzinfo=UTC))
    conv: ConvState = field(default_factory=ConvState)
    effects: list[Effect] = field(default_factory=list)

    def __post_init__(self) -> None:
        kwargs: dict[str, Any] = {}
        if self.detect_crisis:
            kwargs["detect_crisis"] = self.detect_crisis
        if self.detect_concern:
            kwargs["detect_concern"] = self.detect_concern
        if self.expect_minutes:
            kwargs["expect_minutes"] = self.expect_minutes
        self.engine = Engine(self.content, **kwargs)

    def say(
        self,
        text: str = "",
        *,
        payload: str | None = None,
        kind: str = "text",
        after: timedelta = timedelta(seconds=10),
    ) -> Step:
        self.now += after
        msg = Inbound(
            channel="sim",
            external_id="test-person",
            provider_message_id=str(next(_ids)),
            received_at=self.now,
            text=text,
            payload=payload,
            kind=kind,  # type: ignore[arg-type]
        )
        step = self.engine.step(self.conv, msg, self.now)
        self.effects.extend(step.effects)
        return step

    def to_menu(self, language: str = "es") -> None:
        """Welcome, language, consent: the person is at the menu."""
        self.say("hola")
        self.say("1" if language == "es" else "2")
        self.say("1")
        assert self.conv.state is State.MENU

    def effects_of(self, kind: type) -> list:  # type: ignore[type-arg]
        return [e for e in self.effects if isinstance(e, kind)]


def text_of(step: Step) -> str:
    return "\n".join(r.text for r in step.replies)


def last(step: Step) -> Reply:
    return step.replies[-1]
