"""Alerts to psychologists: the text, the buttons, and the outbox rows that carry them.

An alert is an outbox row (participant NULL, purpose ``alert``) on the psychologist's first
usable channel: Telegram (text with Acknowledge / Resolve buttons), then WhatsApp (sent as
the approved alert template by the dispatcher) and SMS through Twilio. Each alert is a
``CaseNotification``; when its outbox row fails for good, the next channel is tried.
Every alert, and every psychologist who could not be reached, is written to the case log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from bot.db.models import Participant
from bot.escalation.context import Escalation
from bot.escalation.models import Case, CaseEvent, CaseNotification, NotificationStatus
from bot.escalation.roster_file import PsychologistEntry
from bot.escalation.texts import StaffCatalog
from bot.flows.types import MEDIA_KINDS
from bot.outbox.enums import Channel, Purpose
from bot.outbox.queue import Recipient, enqueue

MAX_QUOTE = 300


def payload(action: str, case_id: int, extra: str = "") -> str:
    """Button payloads: ``case:ack:12``, ``case:res:12``, ``case:res:12:contacted`` (≤ 64 B)."""
    return f"case:{action}:{case_id}" + (f":{extra}" if extra else "")


def address(channel: str, contact: str) -> str:
    """The identifier the dispatcher sends to (a WhatsApp number carries Twilio's prefix)."""
    return f"whatsapp:{contact}" if channel == Channel.WHATSAPP else contact


def waiting_text(catalog: StaffCatalog, since: datetime, now: datetime) -> str:
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 60:
        return catalog.render("waiting_minutes", n=minutes)
    return catalog.render("waiting_hours", h=minutes // 60, m=minutes % 60)


def quote_of(case: Case) -> str | None:
    quote = (case.snapshot or {}).get("quote")
    return quote if isinstance(quote, str) and quote else None


def short_quote(quote: str) -> str:
    return quote if len(quote) <= MAX_QUOTE else quote[: MAX_QUOTE - 1] + "…"


def alert_text(
    catalog: StaffCatalog,
    case: Case,
    person: Participant | None,
    now: datetime,
    step_index: int,
    *,
    new_signal: bool = False,
    channel: str = Channel.TELEGRAM,
    media: dict[str, int] | None = None,
) -> str:
    reason = case.reason
    quote = quote_of(case)
    if quote:
        reason = f"{reason}\n{catalog.render('quote', text=short_quote(quote))}"
    if media:
        reason = f"{reason}\n{catalog.render('alert_media', what=catalog.media_list(media))}"
    if new_signal:
        step = catalog.render("alert_new_signal", case=case.id)
    elif step_index == 0:
        step = catalog.render("alert_step_first")
    else:
        step = catalog.render("alert_step_again", step=step_index + 1)
    who = person.pseudonym if person else catalog.render("person_deleted")
    return catalog.render(
        "alert",
        priority=catalog.priority.get(case.priority, case.priority),
        case=case.id,
        reason=reason,
        waiting=waiting_text(catalog, case.opened_at, now),
        person=who,
        channel=case.channel or "—",
        step=step,
        actions=catalog.render(
            "alert_actions_telegram" if channel == Channel.TELEGRAM else "alert_actions_other",
            case=case.id,
        ),
    )


def buttons(catalog: StaffCatalog, case_id: int) -> list[dict[str, str]]:
    return [
        {"key": "ack", "label": catalog.button["ack"], "payload": payload("ack", case_id)},
        {"key": "resolve", "label": catalog.button["resolve"], "payload": payload("res", case_id)},
    ]


def event(
    session: Session, case_id: int, kind: str, at: datetime, actor: str | None, **detail: Any
) -> None:
    session.add(CaseEvent(case_id=case_id, at=at, kind=kind, actor=actor, detail=detail))


def staff_message(
    session: Session,
    esc: Escalation,
    channel: str,
    contact: str,
    text: str,
    now: datetime,
    *,
    purpose: Purpose,
    choices: list[dict[str, str]] | None = None,
) -> int:
    """Queue a message to a member of staff (never tied to a participant); its outbox id.
    Buttons go only to Telegram."""
    to = Recipient.address(esc.cipher, channel, address(channel, contact))
    on_telegram = choices if channel == Channel.TELEGRAM and choices else []
    return enqueue(session, to, text, now, purpose=purpose, choices=on_telegram)


def usable_contacts(
    esc: Escalation, person: PsychologistEntry, after: str | None = None
) -> list[tuple[str, str]]:
    contacts = [(ch, addr) for ch, addr in person.contacts.ordered() if ch in esc.channels]
    if after is not None:
        channels = [ch for ch, _ in contacts]
        contacts = contacts[channels.index(after) + 1 :] if after in channels else []
    return contacts


def alert(
    session: Session,
    esc: Escalation,
    case: Case,
    psychologist: PsychologistEntry,
    now: datetime,
    *,
    step_index: int,
    after_channel: str | None = None,
    new_signal: bool = False,
    wrap: bool = False,
) -> CaseNotification | None:
    """Queue an alert about ``case`` to ``psychologist`` on their first usable channel, or
    the one after ``after_channel`` when falling back (``wrap``: back to the first when
    there is none after it). Logged either way."""
    assert case.id is not None
    contacts = usable_contacts(esc, psychologist, after_channel)
    if not contacts and wrap:
        contacts = usable_contacts(esc, psychologist)
    if not contacts:
        reason = "no_channel_left" if after_channel and not wrap else "no_reachable_contact"
        event(
            session,
            case.id,
            "notify_failed",
            now,
            "system",
            psychologist=psychologist.id,
            reason=reason,
            step=step_index,
        )
        return None
    channel, contact = contacts[0]
    catalog = esc.texts.get(psychologist.language)
    person = session.get(Participant, case.participant_id) if case.participant_id else None
    text = alert_text(
        catalog,
        case,
        person,
        now,
        step_index,
        new_signal=new_signal,
        channel=channel,
        media=media_counts(session, case.id),
    )
    outbound_id = staff_message(
        session,
        esc,
        channel,
        contact,
        text,
        now,
        purpose=Purpose.ALERT,
        choices=buttons(catalog, case.id),
    )
    notification = CaseNotification(
        case_id=case.id,
        step_index=step_index,
        psychologist_id=psychologist.id,
        channel=channel,
        outbound_id=outbound_id,
        created_at=now,
    )
    session.add(notification)
    session.flush()
    event(
        session,
        case.id,
        "notified",
        now,
        "system",
        psychologist=psychologist.id,
        channel=channel,
        step=step_index,
        notification=notification.id,
    )
    return notification


def media_counts(session: Session, case_id: int) -> dict[str, int]:
    """The files the person sent on this case, by kind (``bot.flows.types.MediaKind``)."""
    details = session.exec(
        select(CaseEvent.detail).where(
            CaseEvent.case_id == case_id, CaseEvent.kind == "message_from_person"
        )
    ).all()
    counts: dict[str, int] = {}
    for detail in details:
        kind = detail.get("media") if isinstance(detail, dict) else None
        if isinstance(kind, str) and kind in MEDIA_KINDS:
            counts[kind] = counts.get(kind, 0) + 1
    return counts


def notified_psychologists(session: Session, case_id: int) -> list[str]:
    rows = session.exec(
        select(CaseNotification.psychologist_id).where(CaseNotification.case_id == case_id)
    ).all()
    return list(dict.fromkeys(rows))


def undelivered_channel(session: Session, case_id: int, psychologist_id: str) -> str | None:
    """The channel of the psychologist's latest alert about the case if it has not been
    delivered (still queued, or failed): a re-notification tries their next channel."""
    latest = session.exec(
        select(CaseNotification)
        .where(
            CaseNotification.case_id == case_id,
            CaseNotification.psychologist_id == psychologist_id,
        )
        .order_by(col(CaseNotification.id).desc())
        .limit(1)
    ).first()
    return (
        latest.channel if latest is not None and latest.status != NotificationStatus.SENT else None
    )
