"""The crisis lane: messages with crisis words are flagged when recorded and run first."""

from __future__ import annotations

import itertools

from sqlmodel import Session, col, select

from bot.channels.intake import Intake
from bot.db.models import InboundMessage, RiskSignal
from bot.escalation.fastlane import CrisisLane
from bot.flows.types import Inbound
from tests.escalation.support import Desk

_ids = itertools.count(1)
CRISIS = "ya no aguanto, me quiero matar"


def message(desk: Desk, who: str, text: str, kind: str = "text") -> Inbound:
    return Inbound(
        channel="telegram",
        external_id=who,
        provider_message_id=f"lane-{next(_ids)}",
        received_at=desk.clock(),
        text=text,
        kind=kind,  # type: ignore[arg-type]
    )


def intake_of(desk: Desk) -> Intake:
    conversations = desk.runtime.conversations
    return Intake(conversations.recorder)


def inbox(desk: Desk) -> list[InboundMessage]:
    with Session(desk.db) as session:
        return list(session.exec(select(InboundMessage).order_by(col(InboundMessage.id))))


def test_both_ways_of_recording_flag_crisis_words_and_nothing_else(desk: Desk) -> None:
    intake = intake_of(desk)
    received = intake.write(
        [
            message(desk, "1", CRISIS),
            message(desk, "2", "hola, ¿cómo funciona esto?"),
            message(desk, "3", CRISIS, kind="unsupported"),  # (a sticker has no text to read)
        ]
    )
    assert [r.urgent for r in received] == [True, False, False]
    by_service = desk.runtime.conversations.receive(message(desk, "4", "I want to kill myself"))
    ordinary = desk.runtime.conversations.receive(message(desk, "5", "2"))
    assert (by_service.urgent, ordinary.urgent) == (True, False)
    assert [row.urgent for row in inbox(desk)] == [True, False, False, True, False]


def test_a_crisis_message_behind_a_long_backlog_runs_in_one_round(desk: Desk) -> None:
    """The lane looks the flag up: how many ordinary messages wait ahead does not matter (it
    used to read the newest messages a thousand at a time, and fell behind a busy intake)."""
    intake = intake_of(desk)
    backlog = [message(desk, f"busy-{n}", "1") for n in range(3000)]
    for start in range(0, len(backlog), 500):
        intake.write(backlog[start : start + 500])
    [received] = intake.write([message(desk, "at-risk", CRISIS)])

    outcomes = CrisisLane(desk.runtime.conversations).run()

    assert [o.inbound_id for o in outcomes] == [received.inbound_id]
    assert outcomes[0].signals == 1
    statuses = {row.id: row.status for row in inbox(desk)}
    assert statuses.pop(received.inbound_id) == "done"
    assert set(statuses.values()) == {"pending"}  # the backlog waits for the inbox loop
    with Session(desk.db) as session:
        [signal] = session.exec(select(RiskSignal)).all()
    assert signal.priority == "imminent"
    assert CrisisLane(desk.runtime.conversations).run() == []  # nothing left for the lane


def test_the_person_s_earlier_messages_run_first_and_once(desk: Desk) -> None:
    intake = intake_of(desk)
    earlier = intake.write([message(desk, "at-risk", "hola")])[0].inbound_id
    later = intake.write([message(desk, "at-risk", CRISIS)])[0].inbound_id

    # A lane of another process (a new instance: it keeps nothing in memory) finds them too.
    outcomes = CrisisLane(desk.runtime.conversations).run()

    assert [o.inbound_id for o in outcomes] == [earlier, later]
    assert [o.signals for o in outcomes] == [0, 1]
    assert desk.runtime.conversations.process_pending() == []  # nothing runs twice
