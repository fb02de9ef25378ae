"""What escalation needs from the rest of the service, built once per process.

``build_runtime`` makes one :class:`Escalation` (``Runtime.escalation``) and every caller is
handed it: the background loops, the Telegram commands and the dashboard share its roster,
texts and clock. Tests build their own (with a controllable clock).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from bot.crypto import Cipher
from bot.db.models import utcnow
from bot.escalation import coverage
from bot.escalation.coverage import RosterSource
from bot.escalation.oncall import changes
from bot.escalation.roster import Roster, load_roster
from bot.escalation.roster_file import RosterError
from bot.escalation.texts import StaffTexts, load_staff_texts
from bot.outbox.enums import Channel
from bot.settings import Settings

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


@dataclass
class Escalation:
    db: Engine
    roster_source: RosterSource
    texts: StaffTexts
    cipher: Cipher
    #: Channels alerts can go out on (those with credentials configured).
    channels: frozenset[str]
    clock: Clock = utcnow
    worker_id: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")

    @property
    def roster(self) -> Roster | None:
        """The file's last valid roster with the on-call changes stored in the database
        (read on every call, so a change made by any process holds at once)."""
        base = self.roster_source.current()
        return None if base is None else changes.adjusted(base, self.db, self.clock())


def alert_channels(settings: Settings) -> frozenset[str]:
    """Telegram with a bot token; WhatsApp and SMS with Twilio credentials and a sender."""
    channels: set[str] = set()
    if settings.telegram_bot_token is not None:
        channels.add(Channel.TELEGRAM)
    twilio = settings.twilio_account_sid is not None and settings.twilio_auth_token is not None
    if twilio and settings.twilio_whatsapp_from:
        channels.add(Channel.WHATSAPP)
    if twilio and settings.twilio_sms_from:
        channels.add(Channel.SMS)
    return frozenset(channels)


@dataclass(frozen=True)
class SetupCheck:
    """The roster and staff texts checked: ``error`` stops ``validate-config``."""

    error: str | None
    warnings: list[str]
    summary: str


def check_setup(settings: Settings) -> SetupCheck:
    try:
        load_staff_texts(settings.config_dir / "messages")
        roster = load_roster(settings.oncall_file)
    except (RosterError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
        return SetupCheck(str(exc), [], "")
    channels = alert_channels(settings)
    mode = (
        "everyone on call at all times"
        if roster.always_on_call
        else (f"{len(roster.data.shifts)} weekly shifts, {len(roster.data.overrides)} overrides")
    )
    summary = (
        f"on-call roster OK: {len(roster.people)} psychologists, {mode}; "
        f"alert channels: {', '.join(sorted(channels)) or 'none configured'}"
    )
    return SetupCheck(None, coverage.warnings(roster, channels), summary)


def build_escalation(
    settings: Settings, db: Engine, cipher: Cipher, *, clock: Clock = utcnow
) -> Escalation:
    """Everything escalation needs; the roster's problems are logged at start-up."""
    check = check_setup(settings)
    if check.error:
        log.error("on-call roster or staff texts invalid: %s", check.error)
    for warning in check.warnings:
        log.warning("on-call roster: %s", warning)
    return Escalation(
        db=db,
        roster_source=RosterSource(settings.oncall_file),
        texts=load_staff_texts(settings.config_dir / "messages"),
        cipher=cipher,
        channels=alert_channels(settings),
        clock=clock,
    )
