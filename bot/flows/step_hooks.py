"""What a conversation step returns (``StepOutcome``), and the hooks escalation lends it
(``StepHooks``, implemented by ``bot.escalation.hooks``), run in the step's transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy import Connection
from sqlmodel import Session

from bot.db.models import InboundMessage, Participant
from bot.outbox.reply import Reply


@dataclass
class StepOutcome:
    inbound_id: int | None = None
    duplicate: bool = False
    replies: list[Reply] = field(default_factory=list)
    outbound_ids: list[int] = field(default_factory=list)
    participant_id: int | None = None
    signals: int = 0
    #: Held messages queued again because the person wrote (their window reopened).
    released: int = 0


class StepHooks(Protocol):
    """Escalation's hooks into a step: staff messages, the pause while a psychologist talks
    with the person, and the person's open case when they delete their data."""

    def is_staff(self, channel: str, sender_hash: str, payload: str | None) -> bool:
        """Whether the message goes to ``staff_step`` instead of the conversation engine."""
        ...

    def staff_step(
        self, session: Session, inbound: InboundMessage, now: datetime
    ) -> StepOutcome: ...

    def paused_for(self, conn: Connection, participant_id: int) -> bool: ...

    def relay(
        self,
        session: Session,
        participant_id: int,
        inbound_id: int,
        text: str | None,
        now: datetime,
        *,
        media: str | None = None,
    ) -> list[int]: ...

    def person_deleted(self, session: Session, participant: Participant, now: datetime) -> None: ...

    def waiting_over(self, conn: Connection, participant_id: int) -> bool:
        """Whether a waiting person's case was resolved (no open case, no signal pending)."""
        ...

    def note_waiting(
        self,
        session: Session,
        participant_id: int,
        inbound_id: int,
        kind: str,
        now: datetime,
        *,
        media: str | None = None,
    ) -> bool:
        """A message (or a file, or a safety plan) from a waiting person joins their case;
        a file (``media``: its kind) joins any open case. True when a case took it."""
        ...
