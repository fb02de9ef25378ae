"""Escalation's hooks into a conversation step (``bot.flows.step_hooks.StepHooks``, called
by ``bot.flows.step_runner``).

All run inside the step's transaction:

* ``staff_step``: a message from a roster Telegram chat goes to the staff desk, not to the
  engine; a case button pressed from any other chat is refused there too.
* ``paused_for`` / ``relay``: while a case is ``in_conversation`` the engine stays silent for
  the person (it still detects crisis words) and each message is relayed to the psychologist.
* ``person_deleted``: a person erasing their data keeps their open case (participant NULL,
  ``person_deleted_at`` set, priority, rule and times kept, the chain running) so no alert
  vanishes; their words and pseudonym are taken out of the case, its snapshot, and every
  message to staff (alerts, relays, answers to commands), sent or not.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.db.models import InboundMessage, OutboundMessage, Participant, RiskSignal
from bot.db.tables import table_of
from bot.escalation import cases as cases_mod
from bot.escalation import notify
from bot.escalation.context import Escalation
from bot.escalation.models import Case, CaseEvent, CaseStatus
from bot.escalation.roster import Roster
from bot.escalation.roster_file import PsychologistEntry
from bot.escalation.staff import CASE_PAYLOAD, StaffDesk
from bot.flows.step_hooks import StepOutcome
from bot.outbox.enums import Channel, Purpose

MAX_RELAYED = 3000
#: A burst of files from a person makes one note to the psychologists.
MEDIA_NOTE_EVERY = timedelta(minutes=2)
#: Messages to on-call staff that may quote a person (``bot.escalation.notify``).
STAFF_PURPOSES = frozenset({Purpose.ALERT, Purpose.RELAY, Purpose.STAFF_REPLY})
_CASES = table_of(Case)
#: Is a psychologist talking with this person? (Asked on every step: built once.)
_IN_CONVERSATION = (
    sa_select(_CASES.c.id)
    .where(
        _CASES.c.participant_id == bindparam("b_participant"),
        _CASES.c.status == CaseStatus.IN_CONVERSATION,
    )
    .limit(1)
)


_SIGNALS = table_of(RiskSignal)
_OPEN_CASE = (
    sa_select(_CASES.c.id)
    .where(
        _CASES.c.participant_id == bindparam("b_participant"),
        _CASES.c.status != CaseStatus.RESOLVED,
    )
    .limit(1)
)
_PENDING_SIGNAL = (
    sa_select(_SIGNALS.c.id)
    .where(
        _SIGNALS.c.participant_id == bindparam("b_participant"),
        _SIGNALS.c.processed_at.is_(None),
    )
    .limit(1)
)


class EscalationHooks:
    def __init__(self, esc: Escalation) -> None:
        self.esc = esc
        self.desk = StaffDesk(esc)
        self._hashes: tuple[Roster, dict[str, str]] | None = None

    # --- staff -------------------------------------------------------------------------------

    def _staff_hashes(self) -> dict[str, str]:
        # Who is staff depends on the file only (on-call changes move roles, not people).
        roster = self.esc.roster_source.current()
        if roster is None:
            return {}
        if self._hashes is None or self._hashes[0] is not roster:
            hashes = {
                self.esc.cipher.lookup_hash(Channel.TELEGRAM, chat): pid
                for chat, pid in roster.telegram_chats().items()
            }
            self._hashes = (roster, hashes)
        return self._hashes[1]

    def psychologist(self, inbound: InboundMessage) -> PsychologistEntry | None:
        if inbound.channel != Channel.TELEGRAM:
            return None
        pid = self._staff_hashes().get(inbound.sender_hash)
        roster = self.esc.roster_source.current()
        return roster.get(pid) if roster is not None and pid else None

    def is_staff(self, channel: str, sender_hash: str, payload: str | None) -> bool:
        """A message from a roster Telegram chat, or a case button pressed in any chat (the
        desk refuses it there)."""
        if channel != Channel.TELEGRAM:
            return False
        return sender_hash in self._staff_hashes() or bool(payload and CASE_PAYLOAD.match(payload))

    def staff_step(self, session: Session, inbound: InboundMessage, now: datetime) -> StepOutcome:
        outbound = self.desk.handle(session, inbound, self.psychologist(inbound), now)
        inbound.status = "done"
        inbound.processed_at = now
        inbound.sender_enc = None
        inbound.text = None  # what matters is in the case log and the outbox
        session.add(inbound)
        return StepOutcome(inbound_id=inbound.id, outbound_ids=outbound)

    # --- pause and relay ---------------------------------------------------------------------

    def _conversation(self, session: Session, participant_id: int) -> Case | None:
        return session.exec(
            select(Case).where(
                Case.participant_id == participant_id, Case.status == CaseStatus.IN_CONVERSATION
            )
        ).first()

    def paused_for(self, conn: Connection, participant_id: int) -> bool:
        return conn.execute(_IN_CONVERSATION, {"b_participant": participant_id}).first() is not None

    def relay(
        self,
        session: Session,
        participant_id: int,
        inbound_id: int,
        text: str | None,
        now: datetime,
        *,
        media: str | None = None,
    ) -> list[int]:
        """Pass the person's message to the psychologist talking with them (a file: a note
        that the person sent one, see ``_media_note``)."""
        case = self._conversation(session, participant_id)
        if case is None or case.id is None:
            return []
        roster = self.esc.roster
        holder = roster.get(case.conversation_with or "") if roster is not None else None
        contacts = notify.usable_contacts(self.esc, holder) if holder is not None else []
        outbound: list[int] = []
        text = (text or "").strip()
        if holder is not None and contacts and text:
            catalog = self.esc.texts.get(holder.language)
            body = catalog.render("relay", case=case.id, text=text[:MAX_RELAYED])
            channel, contact = contacts[0]
            outbound.append(
                notify.staff_message(
                    session, self.esc, channel, contact, body, now, purpose=Purpose.RELAY
                )
            )
        notify.event(
            session,
            case.id,
            "message_from_person",
            now,
            "person",
            inbound=inbound_id,
            outbound=outbound[0] if outbound else None,
            media=media,
        )
        if media is not None:
            self._media_note(session, case, now)
        return outbound

    # --- waiting for a human --------------------------------------------------------------

    def waiting_over(self, conn: Connection, participant_id: int) -> bool:
        """No open case and no signal still to become one: a psychologist resolved it."""
        if conn.execute(_OPEN_CASE, {"b_participant": participant_id}).first() is not None:
            return False
        return conn.execute(_PENDING_SIGNAL, {"b_participant": participant_id}).first() is None

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
        case = session.exec(
            select(Case).where(
                Case.participant_id == participant_id, Case.status != CaseStatus.RESOLVED
            )
        ).first()
        if case is None or case.id is None:
            return False  # the signal is not a case yet: the message is in the transcript
        if kind == "safety_plan":
            notify.event(session, case.id, "safety_plan", now, "person")
            return True
        notify.event(
            session, case.id, "message_from_person", now, "person", inbound=inbound_id, media=media
        )
        if media is not None:
            self._media_note(session, case, now)
        return True

    def _media_note(self, session: Session, case: Case, now: datetime) -> None:
        """Tell whoever has the case (or, while nobody has it, the psychologists the chain
        alerted) that the person sent a file, at most once a ``MEDIA_NOTE_EVERY``: a burst of
        photos is one note. The next alerts of the chain name the files too."""
        assert case.id is not None
        roster = self.esc.roster
        if roster is None or _noted_lately(session, case.id, now):
            return
        owner_id = case.conversation_with or case.acknowledged_by
        ids = [owner_id] if owner_id else notify.notified_psychologists(session, case.id)
        counts = notify.media_counts(session, case.id)
        for pid in ids:
            person = roster.get(pid)
            contacts = notify.usable_contacts(self.esc, person) if person is not None else []
            if person is None or not contacts:
                continue
            catalog = self.esc.texts.get(person.language)
            body = catalog.render(
                "media_from_person", case=case.id, what=catalog.media_list(counts)
            )
            channel, contact = contacts[0]
            notify.staff_message(
                session, self.esc, channel, contact, body, now, purpose=Purpose.RELAY
            )
        notify.event(session, case.id, "media_noted", now, "system", notify=ids)

    # --- deletion ----------------------------------------------------------------------------

    def person_deleted(self, session: Session, participant: Participant, now: datetime) -> None:
        marker = f"[{self.esc.texts.get(participant.language).render('person_deleted')}]"
        signals = session.exec(
            select(RiskSignal).where(RiskSignal.participant_id == participant.id)
        ).all()
        cases = session.exec(select(Case).where(Case.participant_id == participant.id)).all()
        words = _words(participant, signals, cases)
        for case in cases:
            assert case.id is not None
            _scrub_relays(session, case, marker)
            kept = [
                {k: v for k, v in s.items() if k in ("id", "rule", "priority", "source", "at")}
                for s in (case.snapshot or {}).get("signals", [])
            ]
            case.reason = _reason_without_words(case, kept, signals)
            case.snapshot = {"signals": kept, "person_deleted": True}
            case.participant_id = None
            case.person_deleted_at = now
            session.add(case)
            notify.event(
                session, case.id, "person_deleted_data", now, "person", still_open=case.is_open
            )
        _scrub_staff_messages(session, words, marker)
        session.flush()


def _words(
    participant: Participant, signals: Sequence[RiskSignal], cases: Sequence[Case]
) -> list[str]:
    """What the person wrote, as staff messages may quote it, and their pseudonym: longest
    first, so a quote goes before a phrase inside it."""
    found: set[str] = {participant.pseudonym}
    for signal in signals:
        detail = signal.detail or {}
        for key in ("matched", "message"):
            value = detail.get(key)
            if isinstance(value, str) and value.strip():
                found |= {value, value[: cases_mod.MAX_QUOTE_KEPT], notify.short_quote(value)}
        found.add(cases_mod.reason_of(signal))
    for case in cases:
        found.add(case.reason)
        quote = notify.quote_of(case)
        if quote:
            found |= {quote, notify.short_quote(quote)}
        for entry in (case.snapshot or {}).get("signals", []):
            for key in ("reason", "matched"):
                value = entry.get(key)
                if isinstance(value, str):
                    found.add(value)
    return sorted((w for w in found if len(w.strip()) >= 3), key=len, reverse=True)


def _reason_without_words(
    case: Case, kept: list[dict[str, object]], signals: Sequence[RiskSignal]
) -> str:
    """Rule and kind of the case's most urgent signal, without the person's words."""
    by_id = {s.id: s for s in signals}
    for entry in kept:
        if entry.get("priority") == case.priority:
            entry_id = entry.get("id")
            signal = by_id.get(entry_id) if isinstance(entry_id, int) else None
            if signal is not None:
                return f"{signal.rule_id} · {signal.reason}"
            return str(entry.get("rule", ""))
    return case.reason.split(" · ", 1)[0]


def _scrub_relays(session: Session, case: Case, marker: str) -> None:
    """The person's messages relayed to a psychologist are replaced by the marker."""
    assert case.id is not None
    relays = {
        (event.detail or {}).get("outbound")
        for event in session.exec(
            select(CaseEvent).where(
                CaseEvent.case_id == case.id, CaseEvent.kind == "message_from_person"
            )
        )
    }
    ids = {i for i in relays if isinstance(i, int)}
    if not ids:
        return
    for row in session.exec(select(OutboundMessage).where(col(OutboundMessage.id).in_(ids))):
        row.text = marker
        session.add(row)


def _scrub_staff_messages(session: Session, words: list[str], marker: str) -> None:
    """Take the person's words and pseudonym out of every message to staff (alerts, whether
    sent or still to go, and the answers to their commands)."""
    if not words:
        return
    rows = session.exec(
        select(OutboundMessage).where(
            col(OutboundMessage.participant_id).is_(None),
            col(OutboundMessage.purpose).in_(sorted(STAFF_PURPOSES)),
            or_(*(col(OutboundMessage.text).contains(w, autoescape=True) for w in words)),
        )
    )
    for row in rows:
        text = row.text
        for word in words:
            text = text.replace(word, marker)
        row.text = text
        session.add(row)


def _noted_lately(session: Session, case_id: int, now: datetime) -> bool:
    last = session.exec(
        select(CaseEvent.at)
        .where(CaseEvent.case_id == case_id, CaseEvent.kind == "media_noted")
        .order_by(col(CaseEvent.id).desc())
        .limit(1)
    ).first()
    return last is not None and now - last < MEDIA_NOTE_EVERY
