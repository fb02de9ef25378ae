"""Real conversations that leave real screenings, signals and messages in a database."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from sqlmodel import Session, select

from bot.db.models import Participant
from bot.flows import ConversationService, Inbound
from bot.runtime import Runtime

_ids = itertools.count(1)
WHEN = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def say(service: ConversationService, who: str, *texts: str, channel: str = "telegram") -> None:
    for text in texts:
        service.handle(
            Inbound(
                channel=channel,
                external_id=who,
                provider_message_id=f"dash-{next(_ids)}",
                received_at=service.clock(),
                text=text,
            )
        )


def to_menu(service: ConversationService, who: str, *, channel: str = "telegram") -> None:
    """Hello, consent, Spanish: at the menu."""
    say(service, who, "hola", "1", "1", channel=channel)


def phq9(
    service: ConversationService, who: str, answers: list[int], *, channel: str = "telegram"
) -> None:
    """A full PHQ-9 from the menu with these nine answers (0-3)."""
    assert len(answers) == 9
    say(service, who, "1", *[str(a) for a in answers], channel=channel)


def gad7(
    service: ConversationService, who: str, answers: list[int], *, channel: str = "telegram"
) -> None:
    assert len(answers) == 7
    say(service, who, "2", *[str(a) for a in answers], channel=channel)


def pseudonym_of(runtime: Runtime, chat: str, channel: str = "telegram") -> str:
    """The (random) pseudonym the service gave the person writing from ``chat``."""
    cipher = runtime.cipher
    with Session(runtime.db) as session:
        person = session.exec(
            select(Participant).where(
                Participant.channel == channel,
                Participant.external_hash == cipher.lookup_hash(channel, chat),
            )
        ).one()
        return person.pseudonym
