"""A case about a person who erased their data pages once through its chain, then waits.

Nobody can contact that person any more, so repeating the chain all night would only wake
people for nothing; but whoever the chain names must learn of the case once.
"""

from __future__ import annotations

from sqlmodel import Session, select

from bot.escalation.models import Case
from tests.escalation.support import ANA, PERSON, Desk


def _run_chain(desk: Desk, steps: int = 12) -> None:
    """Run the case's next ``steps`` steps, each at its due time."""
    for _ in range(steps):
        due = desk.case().next_step_at
        if due is None:
            return
        desk.clock.now = max(desk.clock.now, due)
        desk.tick()


def test_the_borrar_race_pages_through_the_chain_once_then_stops(desk: Desk) -> None:
    desk.to_menu()
    desk.say(PERSON, "5")  # menu 5: talk to a psychologist
    desk.say(PERSON, "borrar", "1")  # …and erase everything before escalation runs
    desk.tick()
    case = desk.case()
    assert case.participant_id is None and case.person_deleted_at is not None
    assert desk.new_alerts().get(ANA), "the person on call learns of the case"
    _run_chain(desk)
    case = desk.case()
    assert case.status == "open" and case.next_step_at is None
    assert [s.status for s in desk.steps(case.id or 0)].count("pending") == 0
    assert desk.events(case.id or 0).count("chain_ended") == 1
    desk.new_alerts()  # the chain's own alerts
    desk.clock.advance(days=7)
    desk.tick()
    assert desk.new_alerts() == {}


def test_an_erasure_after_the_alert_also_ends_the_chain(desk: Desk) -> None:
    desk.to_menu()
    desk.say(PERSON, "hoy me quiero matar, no aguanto")
    desk.tick()
    desk.say(PERSON, "2", "borrar", "1")
    _run_chain(desk)
    with Session(desk.db) as session:
        [case] = session.exec(select(Case)).all()
    assert case.person_deleted_at is not None and case.next_step_at is None
    assert "chain_ended" in desk.events(case.id or 0)


def test_a_case_whose_person_is_there_keeps_repeating(desk: Desk) -> None:
    desk.to_menu()
    desk.say(PERSON, "5")  # menu 5: talk to a psychologist
    desk.tick()
    _run_chain(desk)
    case = desk.case()
    assert case.next_step_at is not None
    assert "chain_ended" not in desk.events(case.id or 0)
