"""Handing a case to a colleague (``service.transfer``)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from bot.escalation import service
from bot.escalation.service import ActionResult
from tests.escalation.support import LUIS, PERSON, ROSTER, Desk, write_roster


def _taken_case(desk: Desk) -> int:
    desk.to_menu()
    desk.say(PERSON, "5")  # menu 5: talk to a psychologist
    desk.tick()
    case_id = desk.case().id or 0
    esc = desk.runtime.escalation
    assert service.send_to_person(esc, case_id, "ana", "Hola") is ActionResult.SENT
    return case_id


def test_a_case_in_conversation_moves_with_its_conversation(desk: Desk) -> None:
    case_id = _taken_case(desk)
    esc = desk.runtime.escalation
    desk.new_alerts()
    result = service.transfer(esc, case_id, "ana", "luis", "llamar a las 9")
    assert result is ActionResult.TRANSFERRED
    case = desk.case()
    assert case.acknowledged_by == "luis" and case.conversation_with == "luis"
    told = [r.text for r in desk.outbox(chat=LUIS)]
    assert any("te lo transfirió" in t and "llamar a las 9" in t for t in told)
    desk.say(PERSON, "sigo aquí")  # the person's next message goes to Luis now
    assert any("sigo aquí" in r.text for r in desk.outbox("relay", chat=LUIS))


def test_an_unreachable_or_unknown_colleague_is_refused_and_nothing_changes(
    desk: Desk, roster_file: Path
) -> None:
    case_id = _taken_case(desk)
    esc = desk.runtime.escalation
    people = [
        dict(p, contacts={"sms": "+15555550102"}) if p["id"] == "luis" else p
        for p in ROSTER["psychologists"]
    ]
    write_roster(roster_file, dict(ROSTER, psychologists=people))
    later = time.time() + 5
    os.utime(roster_file, (later, later))
    assert service.transfer(esc, case_id, "ana", "luis") is ActionResult.COLLEAGUE_UNREACHABLE
    assert service.transfer(esc, case_id, "ana", "nadie") is ActionResult.NO_SUCH_COLLEAGUE
    assert service.transfer(esc, case_id, "ana", "ana") is ActionResult.NO_SUCH_COLLEAGUE
    case = desk.case()
    assert case.acknowledged_by == "ana" and case.conversation_with == "ana"
    assert "transferred" not in desk.events(case_id)
