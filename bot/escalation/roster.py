"""The on-call roster (``ONCALL_FILE``, default ``config/oncall.yaml``).

Psychologists with their contacts, weekly shifts and dated overrides in local time
(America/Lima: UTC-5 all year, no daylight saving), supervisors, working hours, and the
escalation chain per priority. A file with only ``psychologists:`` is valid: everyone is on
call at all times and they are notified together.

Who is *primary*, *backup* and *supervisor* at an instant: the overrides covering it, else
the weekly shifts covering it (a shift whose end is not after its start runs past midnight
into the next day; ``days`` are the days a shift starts). Every query takes an aware
datetime; times are stored and compared in UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from bot.content.yamlio import load_yaml
from bot.escalation.models import PRIORITIES

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CHANNELS: tuple[str, ...] = ("telegram", "whatsapp", "sms")
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
            ("telegram", str(self.telegram_chat_id) if self.telegram_chat_id else None),
            ("whatsapp", self.whatsapp),
            ("sms", self.sms),
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


@dataclass(frozen=True)
class OnCall:
    """Who holds each role at one instant (ids, in roster order, without repeats)."""

    primary: tuple[str, ...]
    backup: tuple[str, ...]
    supervisor: tuple[str, ...]

    def role(self, name: str) -> tuple[str, ...]:
        return {"primary": self.primary, "backup": self.backup, "supervisor": self.supervisor}.get(
            name, ()
        )

    @property
    def everyone(self) -> tuple[str, ...]:
        return _unique([*self.primary, *self.backup, *self.supervisor])


def _unique(ids: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(ids))


class Roster:
    """A validated roster and the questions asked of it."""

    def __init__(self, data: RosterFile, source: str = "") -> None:
        self.data = data
        self.source = source
        self.zone = ZoneInfo(data.timezone)
        self.people: dict[str, PsychologistEntry] = {p.id: p for p in data.psychologists}
        self.always_on_call = not data.shifts and not data.overrides
        self._by_chat = {
            str(p.contacts.telegram_chat_id): p.id
            for p in data.psychologists
            if p.contacts.telegram_chat_id
        }

    # --- identity -------------------------------------------------------------------------

    def get(self, psychologist_id: str) -> PsychologistEntry | None:
        return self.people.get(psychologist_id)

    def by_telegram_chat(self, chat_id: str) -> PsychologistEntry | None:
        found = self._by_chat.get(chat_id)
        return self.people[found] if found else None

    def telegram_chats(self) -> dict[str, str]:
        """chat id → psychologist id."""
        return dict(self._by_chat)

    # --- who is on call --------------------------------------------------------------------

    def on_call(self, at: datetime) -> OnCall:
        everyone = tuple(self.people)
        if self.always_on_call:
            return OnCall(everyone, (), _unique(self.data.supervisors))
        local = at.astimezone(self.zone).replace(tzinfo=None)
        overrides = [o for o in self.data.overrides if o.start <= local < o.end]
        covering: list[Shift | Override] = list(overrides) or list(self._shifts_at(local))
        primary = _unique(i for c in covering for i in c.primary)
        backup = _unique(i for c in covering for i in c.backup if i not in primary)
        supervisor = _unique(i for c in covering for i in c.supervisor) or _unique(
            self.data.supervisors
        )
        return OnCall(primary, backup, supervisor)

    def boundaries(self) -> list[datetime]:
        """Instants (aware) where a dated change begins or ends: the file's overrides here;
        changes made at run time too (``bot.oncall.changes.AdjustedRoster``)."""
        return [
            moment.replace(tzinfo=self.zone)
            for override in self.data.overrides
            for moment in (override.start, override.end)
        ]

    def _shifts_at(self, local: datetime) -> Iterable[Shift]:
        for shift in self.data.shifts:
            for start_day in (local.date(), local.date() - timedelta(days=1)):
                if DAYS[start_day.weekday()] not in shift.days:
                    continue
                start = datetime.combine(start_day, shift.start)
                if start <= local < start + shift.duration():
                    yield shift
                    break

    def resolve(self, notify: Iterable[str], at: datetime) -> tuple[str, ...]:
        """The psychologist ids a chain step names (roles resolved at ``at``)."""
        on_call = self.on_call(at)
        ids: list[str] = []
        for name in notify:
            if name == "all":
                ids.extend(on_call.everyone or tuple(self.people))
            elif name in ROLES:
                ids.extend(on_call.role(name))
            elif name in self.people:
                ids.append(name)
        return _unique(ids)

    # --- the chain ----------------------------------------------------------------------------

    def chain(self, priority: str) -> Chain:
        # The file's chains are keyed by the priority Literal; ``priority`` is any str.
        found = self.data.escalation.get(priority)  # type: ignore[call-overload]
        return found or DEFAULT_CHAINS[priority]

    def is_working_time(self, at: datetime) -> bool:
        hours = self.data.working_hours
        local = at.astimezone(self.zone)
        return DAYS[local.weekday()] in hours.days and hours.start <= local.time() < hours.end

    def next_working_morning(self, at: datetime) -> datetime:
        """The next start of working hours strictly after ``at`` (aware, in UTC terms)."""
        hours = self.data.working_hours
        local = at.astimezone(self.zone)
        for offset in range(8):
            day = local.date() + timedelta(days=offset)
            if DAYS[day.weekday()] not in hours.days:
                continue
            start = datetime.combine(day, hours.start, tzinfo=self.zone)
            if start > local:
                return start
        return local + timedelta(days=1)  # pragma: no cover  (days has at least one entry)


def parse_roster(data: Any, source: str = "") -> Roster:
    try:
        return Roster(RosterFile.model_validate(data), source)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise RosterError(f"{source or 'roster'}: {_first_error(exc)}") from None


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if errors is None:
        return str(exc)
    first = errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(top level)"
    return f"{where}: {first['msg']}"


def load_roster(path: Path) -> Roster:
    if not path.is_file():
        raise RosterError(f"{path}: missing (ONCALL_FILE)")
    try:
        data = load_yaml(path)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise RosterError(f"{path.name}: unreadable: {type(exc).__name__}") from None
    return parse_roster(data, path.name)


__all__ = [
    "CHANNELS",
    "DEFAULT_CHAINS",
    "NEXT_WORKING_MORNING",
    "PRIORITIES",
    "Chain",
    "ChainStep",
    "OnCall",
    "Roster",
    "RosterError",
    "load_roster",
    "parse_roster",
    "wait_seconds",
]
