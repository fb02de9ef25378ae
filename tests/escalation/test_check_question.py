"""The check question's signals with a real database: nobody is paged for an unsure
message; "sí" pages at once; silence pages after the configured time, also across a
restart; "no" withdraws the held signal for good."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.db.models import RiskSignal
from bot.flows.concern import SILENCE_RULE
from tests.escalation.support import ANA, PERSON, Clock, Desk, make_settings

UNSURE = "ya no aguanto más"


def ask(desk: Desk) -> list[str]:
    desk.to_menu()
    desk.say(PERSON, "1", "2")
    return desk.say(PERSON, UNSURE)


def held(desk: Desk) -> RiskSignal:
    with Session(desk.db) as session:
        return session.exec(select(RiskSignal).where(col(RiskSignal.rule_id) == SILENCE_RULE)).one()


def test_an_unsure_message_pages_nobody(desk: Desk) -> None:
    replies = ask(desk)
    assert any("quitarse la vida" in r for r in replies)
    assert desk.tick().cases == 0 and desk.cases() == [] and desk.new_alerts() == {}


def test_yes_pages_at_once_and_withdraws_the_held_signal(desk: Desk) -> None:
    ask(desk)
    desk.say(PERSON, "sí")
    desk.tick()
    case = desk.case()
    assert case.priority == "high" and case.snapshot["quote"] == UNSURE
    assert list(desk.new_alerts()) == [ANA]
    signal = held(desk)
    assert signal.withdrawn_at is not None and signal.processed_at is not None
    desk.clock.advance(minutes=30)
    desk.tick()
    assert [c.id for c in desk.cases()] == [case.id]  # no second case from the silence rule


def test_silence_pages_after_the_configured_time_even_across_a_restart(
    db: Engine, database_url: str, roster_file: Path, clock: Clock
) -> None:
    first = Desk.build(make_settings(database_url, roster_file), db, clock)
    ask(first)
    minutes = first.runtime.conversations.flow.content.flows.check_silence_minutes
    clock.advance(minutes=minutes - 1)
    assert first.tick().cases == 0
    # The process ends; a new one (a restart, or another worker) takes over.
    second = Desk.build(make_settings(database_url, roster_file), db, clock)
    clock.advance(minutes=2)
    second.tick()
    case = second.case()
    assert case.priority == "high" and "check question unanswered" in case.reason
    assert list(second.new_alerts()) == [ANA]


def test_no_withdraws_the_held_signal_for_good(desk: Desk) -> None:
    ask(desk)
    replies = desk.say(PERSON, "no")
    assert any("Pregunta 2 de 9" in r for r in replies)
    desk.clock.advance(hours=2)
    desk.tick()
    assert desk.cases() == [] and desk.new_alerts() == {}
    assert held(desk).withdrawn_at is not None


def test_leaving_for_the_menu_does_not_withdraw_it(desk: Desk) -> None:
    ask(desk)
    desk.say(PERSON, "MENÚ")
    desk.clock.advance(minutes=11)
    desk.tick()
    assert "check question unanswered" in desk.case().reason
