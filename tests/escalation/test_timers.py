"""Durable escalation steps: timeouts, repeats, restarts, several workers, the auditor."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.db.engine import make_engine
from bot.escalation import cases, service, timers
from bot.escalation.context import build_escalation
from bot.escalation.models import CaseNotification
from tests.escalation.support import (
    ANA,
    LUIS,
    PERSON,
    ROSA,
    ROSTER,
    Clock,
    Desk,
    make_settings,
    write_roster,
)


def crisis(desk: Desk, chat: int = PERSON) -> None:
    """A stated wish to kill oneself (imminent at once, 2-minute waits), then "yes" to the
    acuity question, which joins the same case."""
    desk.to_menu(chat)
    desk.say(chat, "me quiero matar", "1")


def test_an_unacknowledged_imminent_case_keeps_paging(desk: Desk) -> None:
    crisis(desk)
    desk.tick()
    assert list(desk.new_alerts()) == [ANA]
    paged: list[list[int]] = []
    for _ in range(7):
        desk.clock.advance(minutes=1, seconds=59)
        desk.tick()
        assert desk.new_alerts() == {}  # not before the wait is over
        desk.clock.advance(seconds=1)
        desk.tick()
        paged.append(sorted(desk.new_alerts()))
    # primary+backup, supervisor+all, then again from "primary+backup", for ever.
    assert paged == [
        [ANA, LUIS],
        [ANA, LUIS, ROSA],
        [ANA, LUIS],
        [ANA, LUIS, ROSA],
        [ANA, LUIS],
        [ANA, LUIS, ROSA],
        [ANA, LUIS],
    ]
    case = desk.case()
    assert case.next_step_at == desk.clock() + timedelta(minutes=2)
    assert desk.events(case.id or 0).count("escalated") == 7
    steps = desk.steps(case.id or 0)
    assert [s.status for s in steps] == ["done"] * 8 + ["pending"]


def test_acknowledging_stops_the_chain(desk: Desk) -> None:
    crisis(desk)
    desk.tick()
    case_id = desk.case().id or 0
    assert service.acknowledge(desk.runtime.escalation, case_id, "ana") == "acknowledged"
    desk.new_alerts()
    for _ in range(5):
        desk.clock.advance(minutes=5)
        desk.tick()
    assert desk.new_alerts() == {}
    assert desk.case().next_step_at is None
    assert {s.status for s in desk.steps(case_id)} <= {"done", "cancelled"}


def test_the_chain_is_snapshotted_when_the_case_starts(desk: Desk, roster_file: Path) -> None:
    crisis(desk)
    desk.tick()
    desk.new_alerts()
    # The roster's imminent chain changes to a one-hour wait: the running case keeps 2 min.
    edited = dict(
        ROSTER, escalation={"imminent": {"steps": [{"notify": ["primary"], "wait": "1h"}]}}
    )
    write_roster(roster_file, edited)
    desk.clock.advance(minutes=2)
    desk.tick()
    assert sorted(desk.new_alerts()) == [ANA, LUIS]


def test_nobody_in_a_role_pages_everyone_on_call(desk: Desk, roster_file: Path) -> None:
    write_roster(roster_file, {"psychologists": ROSTER["psychologists"]})  # all on call
    crisis(desk)
    desk.tick()
    assert sorted(desk.new_alerts()) == [ANA, LUIS, ROSA]  # notified together


def test_a_routine_request_at_night_waits_for_the_working_morning(desk: Desk) -> None:
    desk.clock.now = desk.clock.now.replace(hour=4)  # 23:00 in Lima
    desk.to_menu()
    desk.say(PERSON, "5")  # talk to a psychologist
    desk.tick()
    assert desk.new_alerts() == {}
    case = desk.case()
    assert case.priority == "routine"
    assert case.next_step_at is not None and case.next_step_at.hour == 13  # 08:00 Lima
    desk.clock.now = case.next_step_at
    desk.tick()
    assert list(desk.new_alerts()) == [ANA]


def test_restart_between_case_and_notification(
    db: Engine, database_url: str, roster_file: Path, clock: Clock
) -> None:
    settings = make_settings(database_url, roster_file)
    first = Desk.build(settings, db, clock)
    crisis(first)
    # The case is created and committed; the process dies before its first step runs.
    assert cases.ingest_signals(first.runtime.escalation)
    assert first.outbox("alert") == []
    first.runtime.close()
    engine = make_engine(database_url)
    try:
        restarted = Desk.build(settings, engine, clock)
        restarted.tick()
        assert list(restarted.new_alerts()) == [ANA]
        assert len(restarted.cases()) == 1
    finally:
        engine.dispose()


def test_restart_between_signal_and_case(
    db: Engine, database_url: str, roster_file: Path, clock: Clock
) -> None:
    settings = make_settings(database_url, roster_file)
    first = Desk.build(settings, db, clock)
    crisis(first)  # the signals are committed with the conversation steps, nothing more
    first.runtime.close()
    engine = make_engine(database_url)
    try:
        restarted = Desk.build(settings, engine, clock)
        restarted.tick()
        assert restarted.case().priority == "imminent"
        assert list(restarted.new_alerts()) == [ANA]
    finally:
        engine.dispose()


def test_the_auditor_reports_and_runs_overdue_steps(desk: Desk) -> None:
    crisis(desk)
    desk.tick()
    desk.new_alerts()
    before = timers.OVERDUE.value()
    desk.clock.advance(minutes=2, seconds=30)  # the loop was down: due 30 s ago, not overdue
    assert timers.audit(desk.runtime.escalation) == 0
    desk.clock.advance(minutes=5)
    assert timers.audit(desk.runtime.escalation) == 1
    assert timers.OVERDUE.value() == before + 1
    assert sorted(desk.new_alerts()) == [ANA, LUIS]  # and it ran the step
    case_id = desk.case().id or 0
    assert "overdue_step" in desk.events(case_id)
    assert timers.audit(desk.runtime.escalation) == 0  # reported once


@pytest.mark.parametrize("workers", [2, 4])
def test_several_workers_send_one_notification_per_step(
    db: Engine, database_url: str, roster_file: Path, clock: Clock, workers: int
) -> None:
    settings = make_settings(database_url, roster_file)
    desk = Desk.build(settings, db, clock)
    for chat in range(2001, 2006):
        crisis(desk, chat)
    engines = [make_engine(database_url) for _ in range(workers)]
    escalations = [build_escalation(settings, e, desk.runtime.cipher, clock=clock) for e in engines]
    try:
        for _ in range(4):  # four rounds of steps, every worker ticking at once
            barrier = threading.Barrier(workers)

            def work(index: int, barrier: threading.Barrier = barrier) -> None:
                barrier.wait()
                for _ in range(3):
                    timers.tick(escalations[index])

            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(work, range(workers)))  # re-raises a worker's exception
            clock.advance(minutes=2)
    finally:
        for engine in engines:
            engine.dispose()
    with Session(db) as session:
        sent = session.exec(select(CaseNotification)).all()
    per_step = Counter((n.case_id, n.step_index, n.psychologist_id) for n in sent)
    assert set(per_step.values()) == {1}
    # 5 cases × (1 + 2 + 3 + 2 alerts) for steps 0-3.
    assert len(sent) == 5 * 8
    assert len(desk.outbox("alert")) == 5 * 8
