"""Typed shortcuts for the two categorical suicide screens.

Both read the rules from the instrument file (via :func:`bot.scoring.score.score`) and
return the result code as an enum, so callers can branch on it without string literals.
"""

from __future__ import annotations

from enum import StrEnum

from bot.instruments.schema import Instrument
from bot.scoring.answers import Answers
from bot.scoring.score import score

__all__ = ["AsqResult", "CssrsRisk", "asq_result", "cssrs_risk"]


class AsqResult(StrEnum):
    """ASQ screen outcome (NIMH): negative, non-acute positive, acute positive."""

    NEGATIVE = "negative"
    NON_ACUTE_POSITIVE = "non_acute_positive"
    ACUTE_POSITIVE = "acute_positive"


class CssrsRisk(StrEnum):
    """C-SSRS Screener with Triage Points risk level."""

    NONE = "none"
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"


def _result_code(instrument: Instrument, expected_id: str, answers: Answers) -> str:
    if instrument.id != expected_id:
        raise ValueError(f"expected the {expected_id} instrument, got {instrument.id!r}")
    result = score(instrument, answers).result
    if result is None:
        raise ValueError(f"{instrument.id}: not a categorical instrument")
    return result.code


def asq_result(instrument: Instrument, answers: Answers) -> AsqResult:
    """The ASQ result for complete answers; ``ValueError`` if the file's code is unknown."""
    return AsqResult(_result_code(instrument, "asq", answers))


def cssrs_risk(instrument: Instrument, answers: Answers) -> CssrsRisk:
    """The C-SSRS screener risk level for complete answers."""
    return CssrsRisk(_result_code(instrument, "cssrs", answers))
