"""Signals become cases; the case-work API (acknowledge, resolve, write to the person)."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.db.models import OutboundMessage, Participant
from bot.escalation import service
from bot.escalation.models import Case
from bot.escalation.service import ActionResult
from bot.outbox.enums import Purpose
from tests.escalation.support import ANA, LUIS, PERSON, Desk

CRISIS_LINE = "113"


def phq9(desk: Desk, answers: list[int], chat: int = PERSON) -> list[str]:
    desk.to_menu(chat)
    return desk.say(chat, "1", *[str(a) for a in answers])


def test_phq9_item9_opens_a_high_case_and_alerts_the_primary(desk: Desk) -> None:
    phq9(desk, [0, 0, 0, 0, 0, 0, 0, 0, 1])
    assert desk.tick().cases == 1
    case = desk.case()
    assert (case.priority, case.status) == ("high", "open")
    assert "phq9.item9" in case.reason and "phq9_9 = 1" in case.reason
    assert case.snapshot["screenings"][0]["answers"]["phq9_9"] == "1"
    assert case.chain["priority"] == "high" and case.chain["resolved"][0] == ["ana"]
    alerts = desk.new_alerts()
    assert list(alerts) == [ANA]
    assert f"#{case.id}" in alerts[ANA][0]
    [row] = desk.outbox("alert")
    assert [c["payload"] for c in row.choices] == [f"case:ack:{case.id}", f"case:res:{case.id}"]
    assert desk.events(case.id or 0) == ["created", "notified"]


def test_crisis_words_mid_questionnaire_alert_quoting_the_message(desk: Desk) -> None:
    desk.to_menu()
    desk.say(PERSON, "1", "2", "1")
    replies = desk.say(PERSON, "ya no aguanto, me quiero matar")
    assert any(CRISIS_LINE in r for r in replies)
    desk.tick()
    case = desk.case()
    assert case.snapshot["quote"] == "ya no aguanto, me quiero matar"
    assert case.snapshot["in_progress"]["answers"] == {"phq9_1": "2", "phq9_2": "1"}
    # A stated wish to kill oneself is imminent at once.
    assert case.priority == "imminent" and case.chain["priority"] == "imminent"
    [alert] = desk.new_alerts()[ANA]
    assert "INMINENTE" in alert and "«ya no aguanto, me quiero matar»" in alert
    # The acuity question follows; "yes" joins the same case, already at the top priority.
    desk.say(PERSON, "1")
    desk.tick()
    assert [c.id for c in desk.cases()] == [case.id]
    assert len(desk.case().snapshot["signals"]) == 2


def test_passive_ideation_is_high_until_the_acuity_answer_makes_it_imminent(desk: Desk) -> None:
    desk.to_menu()
    desk.say(PERSON, "1", "2")
    desk.say(PERSON, "a veces quisiera morirme")
    desk.tick()
    case = desk.case()
    assert case.priority == "high"
    desk.new_alerts()
    desk.say(PERSON, "1")  # "yes": thoughts of killing themselves right now
    desk.tick()
    case = desk.case()
    assert case.priority == "imminent" and case.chain["priority"] == "imminent"
    [again] = desk.new_alerts()[ANA]
    assert "INMINENTE" in again
    assert "priority_raised" in desk.events(case.id or 0)


def test_new_signals_join_the_open_case(desk: Desk) -> None:
    desk.to_menu()
    desk.say(PERSON, "5")  # talk to a psychologist: routine
    desk.tick()
    assert desk.case().priority == "routine"
    desk.say(PERSON, "3")  # back to the menu while the request stands
    desk.say(PERSON, "1", *["0"] * 8, "2")
    desk.tick()
    [case] = desk.cases()
    assert case.priority == "high"
    assert [s["rule"] for s in case.snapshot["signals"]] == [
        "request.talk_to_psychologist",
        "phq9.item9",
    ]


def test_acknowledge_then_resolve_and_no_going_back(desk: Desk) -> None:
    phq9(desk, [0] * 8 + [1])
    desk.tick()
    case_id = desk.case().id or 0
    db = desk.db
    esc = desk.runtime.escalation
    assert service.acknowledge(esc, case_id, "nobody") is ActionResult.NOT_ALLOWED
    assert service.acknowledge(esc, case_id, "ana") is ActionResult.ACKNOWLEDGED
    assert service.acknowledge(esc, case_id, "luis") is ActionResult.ALREADY_ACKNOWLEDGED
    assert service.resolve(esc, case_id, "luis", "nonsense") is ActionResult.INVALID_OUTCOME
    assert (
        service.resolve(esc, case_id, "luis", "referred_csmc", " CSMC Villa El Salvador ")
        is ActionResult.RESOLVED
    )
    # An acknowledgement arriving after the resolution does not reopen the case.
    assert service.acknowledge(esc, case_id, "ana") is ActionResult.ALREADY_RESOLVED
    case = desk.case()
    assert (case.status, case.outcome, case.note) == (
        "resolved",
        "referred_csmc",
        "CSMC Villa El Salvador",
    )
    assert (case.acknowledged_by, case.resolved_by) == ("ana", "luis")
    assert desk.events(case_id)[-2:] == ["acknowledged", "resolved"]
    assert service.open_cases(db) == []
    # A new signal after resolution opens a new case.
    desk.say(PERSON, "me quiero matar")
    desk.tick()
    assert [c.status for c in desk.cases()] == ["resolved", "open"]


def test_open_cases_by_priority_then_waiting_time(desk: Desk) -> None:
    desk.to_menu(1001)
    desk.say(1001, "5")
    desk.clock.advance(minutes=1)
    phq9(desk, [0] * 8 + [1], chat=1002)
    desk.clock.advance(minutes=1)
    phq9(desk, [0] * 8 + [2], chat=1003)
    desk.tick()
    cases = service.open_cases(desk.db)
    assert [c.priority for c in cases] == ["high", "high", "routine"]
    assert cases[0].opened_at < cases[1].opened_at


def test_writing_to_the_person_pauses_the_flow_until_resolved(desk: Desk) -> None:
    desk.to_menu()
    desk.say(PERSON, "1", "2")  # mid PHQ-9
    desk.say(PERSON, "4")  # an answer, not a request: still in the questionnaire
    desk.say(PERSON, "menu", "5")  # talk to a psychologist
    desk.tick()
    assert list(desk.new_alerts()) == [ANA]
    case_id = desk.case().id or 0
    esc = desk.runtime.escalation
    result = service.send_to_person(esc, case_id, "luis", "Hola, soy Luis.")
    assert result is ActionResult.SENT
    [to_person] = desk.outbox(Purpose.PSYCHOLOGIST_MESSAGE, chat=PERSON)
    assert "Hola, soy Luis." in to_person.text and "Luis Test" in to_person.text
    case = desk.case()
    assert (case.status, case.conversation_with, case.acknowledged_by) == (
        "in_conversation",
        "luis",
        "luis",
    )
    # The person's messages reach Luis, and the bot says nothing…
    assert desk.say(PERSON, "gracias, estoy mejor") == []
    [relay] = desk.outbox("relay", chat=LUIS)
    assert "gracias, estoy mejor" in relay.text and f"#{case_id}" in relay.text
    # …except the crisis lines when crisis words come up; the case keeps its owner.
    replies = desk.say(PERSON, "a veces me quiero matar")
    assert len(replies) == 1 and CRISIS_LINE in replies[0]
    desk.tick()
    assert desk.case().status == "in_conversation"
    # Luis, who has the case, is alerted to the new signal at once.
    [alert] = desk.new_alerts()[LUIS]
    assert f"Nueva señal en tu caso #{case_id}" in alert
    assert service.resolve(esc, case_id, "luis", "contacted", "") is ActionResult.RESOLVED
    # Resolved: the flow answers again.
    assert desk.say(PERSON, "menu")


def test_a_person_deleting_their_data_keeps_the_open_case(desk: Desk) -> None:
    desk.to_menu()
    desk.say(PERSON, "hoy me quiero matar, no aguanto")
    desk.tick()
    case_id = desk.case().id or 0
    [alert] = desk.new_alerts()[ANA]
    assert "«hoy me quiero matar, no aguanto»" in alert
    desk.say(PERSON, "2")  # acuity: no
    desk.say(PERSON, "borrar", "1")
    with Session(desk.db) as session:
        assert session.exec(select(Participant)).all() == []
        case = session.get(Case, case_id)
        assert case is not None
        assert case.participant_id is None and case.person_deleted_at is not None
        assert case.status == "open" and "quote" not in case.snapshot
        [alert_row] = session.exec(
            select(OutboundMessage).where(OutboundMessage.purpose == "alert")
        ).all()
        assert "no aguanto" not in alert_row.text and "borró sus datos" in alert_row.text
    assert "person_deleted_data" in desk.events(case_id)
    esc = desk.runtime.escalation
    assert service.send_to_person(esc, case_id, "ana", "hola") is ActionResult.PERSON_GONE
    assert service.resolve(esc, case_id, "ana", "unreachable") is ActionResult.RESOLVED
