"""The on-call roster file (``ONCALL_FILE``, default ``config/oncall.yaml``): its schema and
its reading.

Psychologists with their contacts, weekly shifts and dated overrides in local time
(America/Lima: UTC-5 all year, no daylight saving), supervisors, working hours, and the
escalation chain per priority. A file with only ``psychologists:`` is valid: everyone is on
call at all times and they are notified together. An invalid file raises
:class:`RosterError` naming the field. The questions asked of a valid roster (who is on
call, whose chat is this) are in :mod:`bot.escalation.roster`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from bot.content.yamlio import load_yaml
from bot.outbox.enums import Channel

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CHANNELS: tuple[str, ...] = (Channel.TELEGRAM, Channel.WHATSAPP, Channel.SMS)
ROLES: tuple[str, ...] = ("primary", "backup", "supervisor", "all")
NEXT_WORKING_MORNING = "next_working_morning"
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_WAIT = re.compile(r"^(\d+)\s*(s|m|h)$")


class RosterError(ValueError):
    """The roster file is missing or invalid; the message names the field."""


def _clock_time(value: Any) -> Any:
    """``"08:00"``, or what YAML 1.1 makes of an unquoted ``8:30`` (sexagesimal 510)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return time(value // 60, value % 60) if 0 <= value < 24 * 60 else value
    return value


def _local_datetime(value: Any) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime.combine(value, time(0))
    return value


ClockTime = Annotated[time, BeforeValidator(_clock_time)]
LocalDateTime = Annotated[datetime, BeforeValidator(_local_datetime)]


def _id_list(value: Any) -> Any:
    if value is None:
        return []
    return [value] if isinstance(value, str) else value


IdList = Annotated[list[str], BeforeValidator(_id_list)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Contacts(_Strict):
    telegram_chat_id: int | None = Field(default=None, gt=0)
    whatsapp: str | None = None
    sms: str | None = None

    @field_validator("whatsapp", "sms", mode="before")
    @classmethod
    def _e164(cls, value: Any) -> Any:
        if value is None:
            return None
        text = str(value).removeprefix("whatsapp:").replace(" ", "")
        if not E164.match(text):
            raise ValueError("must be an international number like +51987654321")
        return text

    def ordered(self) -> list[tuple[str, str]]:
        """(channel, address) in the order alerts try them: Telegram, WhatsApp, SMS."""
        found = [
            (Channel.TELEGRAM, str(self.telegram_chat_id) if self.telegram_chat_id else None),
            (Channel.WHATSAPP, self.whatsapp),
            (Channel.SMS, self.sms),
        ]
        return [(channel, address) for channel, address in found if address]


class PsychologistEntry(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    name: str = Field(min_length=1, max_length=100)
    language: Literal["es", "en"] = "es"
    contacts: Contacts = Contacts()


class Shift(_Strict):
    days: list[Weekday] = Field(min_length=1)
    start: ClockTime
    end: ClockTime
    primary: IdList = Field(min_length=1)
    backup: IdList = Field(default_factory=list)
    supervisor: IdList = Field(default_factory=list)
    name: str = ""

    def duration(self) -> timedelta:
        start = timedelta(hours=self.start.hour, minutes=self.start.minute)
        end = timedelta(hours=self.end.hour, minutes=self.end.minute)
        return end - start if end > start else end - start + timedelta(days=1)


class Override(_Strict):
    start: LocalDateTime
    end: LocalDateTime
    primary: IdList = Field(min_length=1)
    backup: IdList = Field(default_factory=list)
    supervisor: IdList = Field(default_factory=list)
    note: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> Override:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class WorkingHours(_Strict):
    days: list[Weekday] = Field(default_factory=lambda: list(DAYS[:5]), min_length=1)  # mon-fri
    start: ClockTime = time(8, 0)
    end: ClockTime = time(18, 0)


class ChainStep(_Strict):
    """Notify these roles (or psychologist ids), then wait for an acknowledgement."""

    notify: IdList = Field(min_length=1)
    wait: str = "5m"
    #: ``working_hours``: outside working hours this step waits for the next working morning.
    during: Literal["always", "working_hours"] = "always"

    @field_validator("wait", mode="before")
    @classmethod
    def _wait(cls, value: Any) -> Any:
        text = str(value).strip()
        if text != NEXT_WORKING_MORNING and not _WAIT.match(text):
            raise ValueError(f"must be like 90s, 2m, 1h or {NEXT_WORKING_MORNING}")
        if text != NEXT_WORKING_MORNING and wait_seconds(text) <= 0:
            raise ValueError("must be longer than 0")
        return text


class Chain(_Strict):
    steps: list[ChainStep] = Field(min_length=1)
    #: After the last step the chain starts again from this step, for as long as nobody
    #: acknowledges: it never ends silently.
    repeat_from: int = Field(default=1, ge=0)

    @model_validator(mode="after")
    def _repeat_in_range(self) -> Chain:
        if self.repeat_from >= len(self.steps):
            object.__setattr__(self, "repeat_from", len(self.steps) - 1)
        return self


def wait_seconds(wait: str) -> int:
    match = _WAIT.match(wait)
    if match is None:
        raise ValueError(wait)
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600}[match.group(2)]


def _default_chain(wait: str, during: str = "always") -> Chain:
    return Chain.model_validate(
        {
            "steps": [
                {"notify": ["primary"], "wait": wait, "during": during},
                {"notify": ["primary", "backup"], "wait": wait, "during": during},
                {"notify": ["supervisor", "primary", "backup"], "wait": wait, "during": during},
            ],
            "repeat_from": 1,
        }
    )


DEFAULT_CHAINS: dict[str, Chain] = {
    "imminent": _default_chain("2m"),
    "high": _default_chain("5m"),
    "moderate": _default_chain("30m"),
    "routine": _default_chain(NEXT_WORKING_MORNING, "working_hours"),
}


class RosterFile(_Strict):
    timezone: str = "America/Lima"
    psychologists: list[PsychologistEntry] = Field(min_length=1)
    supervisors: IdList = Field(default_factory=list)
    working_hours: WorkingHours = WorkingHours()
    shifts: list[Shift] = Field(default_factory=list)
    overrides: list[Override] = Field(default_factory=list)
    escalation: dict[Literal["imminent", "high", "moderate", "routine"], Chain] = Field(
        default_factory=dict
    )

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _references(self) -> RosterFile:
        ids = [p.id for p in self.psychologists]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"psychologists: duplicate id(s) {duplicates}")
        chats = [
            p.contacts.telegram_chat_id for p in self.psychologists if p.contacts.telegram_chat_id
        ]
        if len(chats) != len(set(chats)):
            raise ValueError("psychologists: two psychologists share a telegram_chat_id")
        known = set(ids)
        for where, names in self._referenced():
            unknown = sorted(set(names) - known)
            if unknown:
                raise ValueError(f"{where}: unknown psychologist id(s) {unknown}")
        return self

    def _referenced(self) -> Iterable[tuple[str, list[str]]]:
        yield "supervisors", self.supervisors
        for i, shift in enumerate(self.shifts):
            yield f"shifts[{i}]", [*shift.primary, *shift.backup, *shift.supervisor]
        for i, override in enumerate(self.overrides):
            yield f"overrides[{i}]", [*override.primary, *override.backup, *override.supervisor]
        for priority, chain in self.escalation.items():
            for i, step in enumerate(chain.steps):
                yield (
                    f"escalation.{priority}.steps[{i}].notify",
                    [n for n in step.notify if n not in ROLES],
                )


def parse_roster_file(data: Any, source: str = "") -> RosterFile:
    """The roster file's content (as read from YAML), validated."""
    try:
        return RosterFile.model_validate(data)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise RosterError(f"{source or 'roster'}: {_first_error(exc)}") from None


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if errors is None:
        return str(exc)
    first = errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(top level)"
    return f"{where}: {first['msg']}"


def read_roster_file(path: Path) -> RosterFile:
    if not path.is_file():
        raise RosterError(f"{path}: missing (ONCALL_FILE)")
    try:
        data = load_yaml(path)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise RosterError(f"{path.name}: unreadable: {type(exc).__name__}") from None
    return parse_roster_file(data, path.name)
