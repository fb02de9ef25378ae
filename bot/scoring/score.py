"""Score a completed instrument: total and band (summed) or result (categorical), risk flags.

Pure: takes the instrument (from its file) and the answers, returns a :class:`ScoreResult`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.instruments.schema import Band, Instrument, Priority, Result
from bot.scoring.answers import Answers, option_of
from bot.scoring.conditions import Facts, evidence, holds
from bot.scoring.flow import applicable_answers, missing_items

__all__ = ["RiskFlag", "ScoreResult", "score"]


@dataclass(frozen=True, slots=True)
class RiskFlag:
    """A risk rule of the instrument file that fired.

    ``items`` are the answered items that made it fire, in file order.
    """

    rule_id: str
    flag: str
    priority: Priority
    description: str
    items: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "flag": self.flag,
            "priority": self.priority.value,
            "description": self.description,
            "items": list(self.items),
        }


@dataclass(frozen=True, slots=True)
class ScoreResult:
    """The outcome of one completed instrument.

    ``total``/``max_total``/``band`` are set for summed instruments, ``result`` for
    categorical ones. ``flags`` are ordered most urgent first (file order within a
    priority). ``positive`` comes from the band or result; ``referral`` is true when the
    band or result asks for one or any risk flag fired.
    """

    instrument_id: str
    version: str
    total: int | None
    max_total: int | None
    band: Band | None = field(hash=False)
    result: Result | None = field(hash=False)
    flags: tuple[RiskFlag, ...]
    positive: bool
    referral: bool

    @property
    def highest_priority(self) -> Priority | None:
        return self.flags[0].priority if self.flags else None

    @property
    def code(self) -> str:
        """The band code or result code."""
        if self.band is not None:
            return self.band.code
        if self.result is not None:
            return self.result.code
        raise ValueError(f"{self.instrument_id}: a score has a band or a result")


def _total(instrument: Instrument, answers: Answers) -> int:
    total = 0
    for item_id, code in answers.items():
        item = instrument.item(item_id)
        if item.scored:
            value = option_of(instrument, item, code).value
            if value is None:
                raise ValueError(f"{instrument.id}: item {item_id} answer {code!r} has no value")
            total += value
    return total


def _band(instrument: Instrument, total: int) -> Band:
    for band in instrument.bands:
        if band.min <= total <= band.max:
            return band
    raise ValueError(f"{instrument.id}: no band covers the total {total}")


def _result(instrument: Instrument, facts: Facts) -> Result:
    for result in instrument.results:
        if result.when is None or holds(result.when, facts):
            return result
    raise ValueError(f"{instrument.id}: no result matched and there is no default")


def _flags(instrument: Instrument, facts: Facts) -> tuple[RiskFlag, ...]:
    order = [item.id for item in instrument.items]
    fired = [
        RiskFlag(
            rule_id=rule.id,
            flag=rule.flag,
            priority=rule.priority,
            description=rule.description,
            items=tuple(i for i in order if i in evidence(rule.when, facts)),
        )
        for rule in instrument.risk_rules
        if holds(rule.when, facts)
    ]
    return tuple(sorted(fired, key=lambda f: -f.priority.rank))


def score(instrument: Instrument, answers: Answers) -> ScoreResult:
    """Score ``answers`` (item id -> option code).

    Raises ``ValueError`` when an answer names an unknown item or an option code the item
    does not have, or when a question that applies is not answered. Answers to questions
    that do not apply (their ``ask_if`` is false) are ignored.
    """
    missing = missing_items(instrument, answers)
    if missing:
        raise ValueError(f"{instrument.id}: required item(s) not answered: {missing}")
    asked = applicable_answers(instrument, answers)
    band: Band | None = None
    result: Result | None = None
    total: int | None = None
    max_total: int | None = None
    if instrument.scoring.method == "sum":
        total = _total(instrument, asked)
        max_total = instrument.total_range[1]
        band = _band(instrument, total)
        facts = Facts(instrument, asked, total=total)
        positive, referral = band.positive, band.referral
    else:
        result = _result(instrument, Facts(instrument, asked))
        facts = Facts(instrument, asked, result=result.code)
        positive, referral = result.positive, result.referral
    flags = _flags(instrument, facts)
    return ScoreResult(
        instrument_id=instrument.id,
        version=instrument.version,
        total=total,
        max_total=max_total,
        band=band,
        result=result,
        flags=flags,
        positive=positive,
        referral=referral or bool(flags),
    )
