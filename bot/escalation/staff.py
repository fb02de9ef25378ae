"""Psychologists' Telegram commands and alert buttons.

Messages from a Telegram chat listed in the roster never reach the conversation engine: the
inbox step hands them here, in the step's own transaction. Commands: ``/cases``, ``/ack N``,
``/resolve N [outcome] [note]``, ``/reply N text`` (Spanish aliases ``/casos``,
``/atender``, ``/cerrar``, ``/responder``), and the on-call commands of
:mod:`bot.escalation.oncall.telegram` (``/oncall``, ``/cover``, ``/away``, ``/undo``); buttons
``case:ack:N``, ``case:res:N`` (asks for the outcome with buttons) and
``case:res:N:<outcome>``. Each action goes through :mod:`bot.escalation.service`, which
checks the psychologist against the roster again.

A button press or a case command from a chat that is not on the roster is refused and
audited, and never reaches the engine either.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from bot.db.models import InboundMessage
from bot.escalation import notify, service
from bot.escalation.context import Escalation
from bot.escalation.models import OPEN_STATUSES, OUTCOMES, PRIORITY_RANK, Case
from bot.escalation.oncall import telegram as oncall_commands
from bot.escalation.oncall.telegram import OnCallDesk
from bot.escalation.roster_file import PsychologistEntry
from bot.escalation.service import ActionResult
from bot.escalation.texts import StaffCatalog
from bot.outbox.enums import Channel, Purpose
from bot.outbox.queue import Recipient, enqueue

log = logging.getLogger(__name__)

CASE_PAYLOAD = re.compile(r"^case:(ack|res):(\d{1,12})(?::([a-z_]+))?$")
CASE_COMMANDS = {
    "cases": "cases",
    "casos": "cases",
    "ack": "ack",
    "atender": "ack",
    "resolve": "resolve",
    "cerrar": "resolve",
    "reply": "reply",
    "responder": "reply",
}
MAX_LISTED = 20


@dataclass(frozen=True)
class Command:
    action: str  # cases | ack | resolve | reply | help
    case_id: int | None = None
    outcome: str | None = None
    text: str = ""


def parse(text: str, payload: str | None, catalog: StaffCatalog) -> Command:
    if payload:
        match = CASE_PAYLOAD.match(payload)
        if match is None:
            return Command("help")
        action = "ack" if match.group(1) == "ack" else "resolve"
        return Command(action, int(match.group(2)), match.group(3))
    words = text.strip().split(maxsplit=2)
    if not words or not words[0].startswith("/"):
        return Command("help")
    action = CASE_COMMANDS.get(words[0][1:].split("@", 1)[0].lower(), "help")
    if action in ("cases", "help"):
        return Command(action)
    if len(words) < 2 or not words[1].lstrip("#").isdigit():
        return Command("help")
    case_id = int(words[1].lstrip("#"))
    rest = words[2] if len(words) > 2 else ""
    if action == "resolve":
        head, _, note = rest.partition(" ")
        outcome = outcome_of(head, catalog)
        if outcome is None and head:
            return Command("resolve", case_id, "?", rest)
        return Command("resolve", case_id, outcome, note)
    return Command(action, case_id, None, rest)


def outcome_of(word: str, catalog: StaffCatalog) -> str | None:
    key = word.strip().lower()
    if key in OUTCOMES:
        return key
    for code, label in catalog.outcome.items():
        if key and key == label.lower().replace(" ", "_"):
            return code
    return None


class StaffDesk:
    """Handles one message from a roster chat (or a case button from anyone else)."""

    def __init__(self, esc: Escalation) -> None:
        self.esc = esc

    def psychologist(self, inbound: InboundMessage) -> PsychologistEntry | None:
        roster = self.esc.roster
        if roster is None or inbound.channel != Channel.TELEGRAM:
            return None
        for chat, pid in roster.telegram_chats().items():
            if self.esc.cipher.lookup_hash(Channel.TELEGRAM, chat) == inbound.sender_hash:
                return roster.get(pid)
        return None

    def handle(
        self,
        session: Session,
        inbound: InboundMessage,
        who: PsychologistEntry | None,
        now: datetime,
    ) -> list[int]:
        """Act on the message; returns the ids of the outbox rows written (the replies)."""
        catalog = self.esc.texts.get(who.language if who else "es")
        command = parse(inbound.text or "", inbound.payload, catalog)
        if who is None:
            return self._refuse(session, inbound, command, catalog, now)
        if not inbound.payload and oncall_commands.command_of(inbound.text):
            text = OnCallDesk(self.esc).run(session, who, inbound.text or "", catalog)
            return [self._reply(session, inbound, text, [], now)]
        texts = self._run(session, who, command, catalog)
        return [self._reply(session, inbound, text, choices, now) for text, choices in texts]

    def _refuse(
        self,
        session: Session,
        inbound: InboundMessage,
        command: Command,
        catalog: StaffCatalog,
        now: datetime,
    ) -> list[int]:
        log.warning("case action from a chat not on the roster refused")
        if command.case_id is not None and session.get(Case, command.case_id) is not None:
            notify.event(
                session,
                command.case_id,
                "refused",
                now,
                "unknown_chat",
                action=command.action,
                channel=inbound.channel,
            )
        return [self._reply(session, inbound, catalog.render("not_allowed"), [], now)]

    def _run(
        self, session: Session, who: PsychologistEntry, command: Command, catalog: StaffCatalog
    ) -> list[tuple[str, list[dict[str, str]]]]:
        outcomes = ", ".join(OUTCOMES)
        case_id = command.case_id or 0
        if command.action == "cases":
            return [(self._cases(session, catalog), [])]
        if command.action == "help":
            return [(catalog.render("usage", outcomes=outcomes), [])]
        if command.action == "ack":
            result = service.acknowledge_in(session, self.esc, case_id, who.id)
        elif command.action == "resolve":
            if command.outcome is None:
                return [
                    (
                        catalog.render("choose_outcome", case=case_id),
                        _outcome_buttons(catalog, case_id),
                    )
                ]
            if command.outcome == "?":
                return [(catalog.render("invalid_outcome", outcomes=outcomes), [])]
            result = service.resolve_in(
                session, self.esc, case_id, who.id, command.outcome, command.text
            )
        else:
            result = service.send_to_person_in(session, self.esc, case_id, who.id, command.text)
        return [(self._result_text(session, catalog, result, case_id, command), [])]

    def _result_text(
        self,
        session: Session,
        catalog: StaffCatalog,
        result: ActionResult,
        case_id: int,
        command: Command,
    ) -> str:
        if result is ActionResult.ALREADY_ACKNOWLEDGED:
            case = session.get(Case, case_id)
            holder = (case.conversation_with or case.acknowledged_by) if case else None
            name = service.actor_name(self.esc, holder)
            return catalog.render("already_acknowledged", case=case_id, name=name)
        if result is ActionResult.RESOLVED:
            label = catalog.outcome.get(command.outcome or "", command.outcome or "")
            return catalog.render("resolved", case=case_id, outcome=label)
        if result is ActionResult.INVALID_OUTCOME:
            return catalog.render("invalid_outcome", outcomes=", ".join(OUTCOMES))
        if result is ActionResult.NOT_ALLOWED:
            return catalog.render("not_allowed")
        return catalog.render(result.value, case=case_id)

    def _cases(self, session: Session, catalog: StaffCatalog) -> str:
        cases = session.exec(select(Case).where(col(Case.status).in_(OPEN_STATUSES))).all()
        if not cases:
            return catalog.render("cases_empty")
        ordered = sorted(cases, key=lambda c: (PRIORITY_RANK.get(c.priority, 9), c.opened_at))
        now = self.esc.clock()
        lines = [catalog.render("cases_header", count=len(cases))]
        for case in ordered[:MAX_LISTED]:
            lines.append(
                catalog.render(
                    "case_line",
                    case=case.id,
                    priority=catalog.priority.get(case.priority, case.priority),
                    status=catalog.status.get(case.status, case.status),
                    waiting=notify.waiting_text(catalog, case.opened_at, now),
                    reason=case.reason[:120],
                )
            )
        return "\n".join(lines)

    def _reply(
        self,
        session: Session,
        inbound: InboundMessage,
        text: str,
        choices: list[dict[str, str]],
        now: datetime,
    ) -> int:
        to = Recipient(inbound.channel, inbound.sender_hash, inbound.sender_enc)
        return enqueue(session, to, text, now, purpose=Purpose.STAFF_REPLY, choices=choices)


def _outcome_buttons(catalog: StaffCatalog, case_id: int) -> list[dict[str, str]]:
    return [
        {
            "key": str(i + 1),
            "label": catalog.outcome[code],
            "payload": notify.payload("res", case_id, code),
        }
        for i, code in enumerate(OUTCOMES)
    ]
