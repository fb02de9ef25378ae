"""The one priority table (``config/priorities.yaml``): every source of a risk signal, its
priority, its reason and its source. Loaded and cross-checked at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.content.yamlio import load_yaml
from bot.instruments.schema import Instrument

Priority = Literal["imminent", "high", "moderate", "routine"]
RowKind = Literal["answer", "rule", "free_text", "question", "request"]
PRIORITY_ORDER: tuple[str, ...] = ("imminent", "high", "moderate", "routine")

#: The crisis detector's categories (``CrisisMatch.category``); each needs a row.
DETECTOR_CATEGORIES: tuple[str, ...] = (
    "suicidal_intent",
    "method_seeking",
    "suicidal_ideation",
    "farewell",
    "past_attempt",
    "self_harm",
    "third_party",
    "third_party_emergency",
)
#: The bot's own questions and requests that raise signals; each needs a row.
REQUIRED_CATEGORIES: tuple[str, ...] = ("check_yes", "acuity_yes", "talk_to_psychologist")


class PriorityRow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9_.]+$")
    kind: RowKind
    priority: Priority
    reason: str = Field(min_length=1)
    source: str = Field(min_length=1)
    instrument: str | None = None
    items: tuple[str, ...] = ()
    answers: tuple[str, ...] = ()
    rule: str | None = None
    category: str | None = None
    ask_now: bool = False

    @model_validator(mode="after")
    def _fields_for_kind(self) -> PriorityRow:
        need = {
            "answer": ("instrument", "items", "answers"),
            "rule": ("instrument", "rule"),
            "free_text": ("category",),
            "question": ("category",),
            "request": ("category",),
        }[self.kind]
        missing = [name for name in need if not getattr(self, name)]
        if missing:
            raise ValueError(f"a row of kind {self.kind!r} needs {', '.join(missing)}")
        return self


class PriorityTable(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rows: tuple[PriorityRow, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> PriorityTable:
        ids = [r.id for r in self.rows]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate row ids {dupes}")
        keys = [r.category for r in self.rows if r.category]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ValueError(f"more than one row for {dupes}")
        return self

    # --- lookups ---------------------------------------------------------------------------

    def for_answer(self, instrument: str, item: str, answer: str) -> PriorityRow | None:
        for row in self.rows:
            if (
                row.kind == "answer"
                and row.instrument == instrument
                and item in row.items
                and answer in row.answers
            ):
                return row
        return None

    def for_rule(self, instrument: str, rule: str) -> PriorityRow | None:
        for row in self.rows:
            if row.kind == "rule" and (row.instrument, row.rule) == (instrument, rule):
                return row
        return None

    def for_category(self, category: str) -> PriorityRow | None:
        return next((r for r in self.rows if r.category == category), None)

    def priority_of(self, category: str, default: str = "high") -> str:
        """The priority of a free-text category or a question/request; unknown → ``default``
        (never lower than high for a detector category nobody listed)."""
        row = self.for_category(category)
        return row.priority if row is not None else default

    # --- checks against the instruments ------------------------------------------------------

    def check(self, instruments: dict[str, Instrument]) -> None:
        """Raise ``ValueError`` naming the row when the table and the instruments disagree."""
        for row in self.rows:
            if row.instrument is None:
                continue
            instrument = instruments.get(row.instrument)
            if instrument is None:
                raise ValueError(f"row {row.id}: no instrument {row.instrument!r}")
            if row.kind == "answer":
                for item_id in row.items:
                    try:
                        item = instrument.item(item_id)
                    except KeyError:
                        raise ValueError(f"row {row.id}: no item {item_id!r}") from None
                    codes = {o.code for o in instrument.options_for(item)}
                    bad = sorted(set(row.answers) - codes)
                    if len(bad) == len(row.answers):
                        raise ValueError(f"row {row.id}: item {item_id} has none of {bad}")
            if row.kind == "rule":
                rule = next((r for r in instrument.risk_rules if r.id == row.rule), None)
                if rule is None:
                    raise ValueError(f"row {row.id}: no risk rule {row.rule!r}")
                if str(rule.priority) != row.priority:
                    raise ValueError(
                        f"row {row.id}: priority {row.priority} but {instrument.id}.yaml says "
                        f"{rule.priority}: keep one priority (change both)"
                    )
        for instrument in instruments.values():
            for rule in instrument.risk_rules:
                if self.for_rule(instrument.id, rule.id) is None:
                    raise ValueError(f"no row for risk rule {instrument.id}.{rule.id}")
        for category in (*DETECTOR_CATEGORIES, *REQUIRED_CATEGORIES):
            if self.for_category(category) is None:
                raise ValueError(f"no row for {category!r}")

    def describe(self) -> list[str]:
        """One line per row, most urgent first (``validate-config`` prints it)."""
        lines = []
        ordered = sorted(self.rows, key=lambda r: PRIORITY_ORDER.index(r.priority))
        for row in ordered:
            what = row.category or row.rule or ""
            if row.kind == "answer":
                what = f"{'/'.join(row.items)} = {'/'.join(row.answers)}"
            now = " (asks 'right now?')" if row.ask_now else ""
            lines.append(f"{row.priority:<9} {row.id:<36} {row.kind:<9} {what}{now}")
            lines.append(f"{'':<9} reason: {row.reason}")
            lines.append(f"{'':<9} source: {row.source}")
        return lines


def load_priorities(path: Path) -> PriorityTable:
    return PriorityTable.model_validate(load_yaml(path))
