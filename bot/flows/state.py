"""A conversation's state as the engine sees it, and what one step produces."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.flows.types import Effect
from bot.outbox.enums import Purpose
from bot.outbox.reply import Reply


class State(StrEnum):
    NEW = "new"  # nothing said yet, or came back after refusing consent
    CONSENT = "consent"
    REFUSED = "refused"
    LANGUAGE = "language"
    MENU = "menu"
    QUESTION = "question"
    RESUME = "resume"  # offered to continue an interrupted questionnaire
    REFERRAL = "referral"  # offered a psychologist's contact
    CONFIRM_DELETE = "confirm_delete"
    ACUITY = "acuity"  # crisis words seen: asking the safety question
    WAITING = "waiting"  # a high or imminent signal: waiting for a psychologist
    SAFETY_PLAN = "safety_plan"  # building a safety plan while waiting
    CHECK = "check"  # the detector was unsure: asking whether they think of suicide
    STOPPED = "stopped"


@dataclass
class ConvState:
    """Mutable copy of a stored conversation; the engine changes it, storage saves it."""

    state: State = State.NEW
    language: str = "es"
    instrument_id: str | None = None
    item_id: str | None = None
    answers: dict[str, str] = field(default_factory=dict)
    plan: list[str] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)
    last_activity_at: datetime | None = None
    opted_out: bool = False

    def clear_questionnaire(self) -> None:
        self.instrument_id = None
        self.item_id = None
        self.answers = {}
        self.plan = []
        for key in (
            "started_at",
            "gate_then",
            "referral",
            "in_plan",
            "suspended",
            "raised",
            "ask_now",
        ):
            self.context.pop(key, None)


@dataclass
class Step:
    replies: list[Reply] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)

    def say(
        self, text: str, choices: tuple[Any, ...] = (), *, purpose: Purpose = Purpose.REPLY
    ) -> None:
        self.replies.append(Reply(text=text, choices=choices, purpose=purpose))
