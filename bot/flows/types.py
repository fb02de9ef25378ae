"""The conversation engine's inputs and outputs. Channel- and framework-independent."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

MessageKind = Literal["text", "unsupported"]
#: What a person sent that is not text. ``other``: a location, a contact, a poll… (nothing
#: the server can fetch).
MediaKind = Literal["voice", "audio", "photo", "video", "document", "sticker", "other"]
MEDIA_KINDS: tuple[MediaKind, ...] = (
    "voice",
    "audio",
    "photo",
    "video",
    "document",
    "sticker",
    "other",
)


@dataclass(frozen=True, slots=True)
class Media:
    """A file a person sent, as the platform names it: a Telegram ``file_id`` or a Twilio
    ``MediaUrl``. The server fetches it through the platform's API when a psychologist opens
    it in the dashboard; it is never downloaded otherwise."""

    kind: MediaKind
    ref: str | None = None
    content_type: str | None = None


@dataclass(frozen=True, slots=True)
class Inbound:
    """A message from a person, normalised by a channel adapter.

    ``provider_message_id`` is the platform's id (Telegram ``update_id``, Twilio
    ``MessageSid``); a repeat of the same id is recognised as a redelivery.
    ``payload`` is a button's payload; ``kind`` is ``unsupported`` for stickers, photos…
    without text; ``media`` is what was attached (a photo with a caption is ``text``).
    """

    channel: str
    external_id: str
    provider_message_id: str
    received_at: datetime
    text: str = ""
    payload: str | None = None
    kind: MessageKind = "text"
    media: Media | None = None


# --- effects: what a step asks the storage layer to do ------------------------------------


@dataclass(frozen=True, slots=True)
class RecordConsent:
    given: bool
    text_version: str


@dataclass(frozen=True, slots=True)
class SaveScreening:
    instrument_id: str
    instrument_version: str
    answers: dict[str, str]
    total: int | None
    max_total: int | None
    band: str | None
    result: str | None
    positive: bool
    flags: list[dict[str, Any]]
    started_at: datetime


@dataclass(frozen=True, slots=True)
class RaiseSignal:
    """Something a human must look at. ``source``: instrument, free_text or request.

    ``hold_for``: the signal is kept but not acted on until this much time has passed, and
    can be withdrawn before that (``WithdrawHeldSignals``): the unanswered check question.
    """

    source: str
    rule_id: str
    priority: str
    reason: str
    detail: dict[str, Any] = field(default_factory=dict)
    hold_for: timedelta | None = None


@dataclass(frozen=True, slots=True)
class WithdrawHeldSignals:
    """Withdraw this person's held signals of ``rule_id`` not yet acted on (the check
    question was answered, so its silence rule no longer applies)."""

    rule_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class SetOptOut:
    opted_out: bool


@dataclass(frozen=True, slots=True)
class DeleteData:
    pass


@dataclass(frozen=True, slots=True)
class ForgetMessages:
    """Drop the text of the messages kept so far (a refusal keeps only the refusal)."""


@dataclass(frozen=True, slots=True)
class StartWaiting:
    """The person now waits for a psychologist: schedule the check-ins (minutes from now)
    and the honest notice if nobody has acknowledged after ``expect_minutes``."""

    checkins: tuple[int, ...]
    expect_minutes: int


@dataclass(frozen=True, slots=True)
class SaveSafetyPlan:
    """The safety plan the person built, in their own words, step key -> text."""

    steps: dict[str, str]


@dataclass(frozen=True, slots=True)
class NoteForReview:
    """Keep this message for staff to label (``bot.escalation.review``): ``kind`` is
    ``unsure`` (the detector asked its check question) or ``unrecognised`` (free text that
    answered nothing). The storage layer keeps it only with the person's consent."""

    kind: Literal["unsure", "unrecognised"]
    category: str | None = None
    score: float | None = None


Effect = (
    RecordConsent
    | SaveScreening
    | RaiseSignal
    | WithdrawHeldSignals
    | SetOptOut
    | DeleteData
    | ForgetMessages
    | NoteForReview
    | StartWaiting
    | SaveSafetyPlan
)
