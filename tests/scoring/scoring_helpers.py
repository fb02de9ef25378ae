"""Shared helpers for the scoring tests (named uniquely so it cannot clash on sys.path)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path

from bot.instruments.loader import load_instruments
from bot.instruments.schema import Instrument
from bot.scoring import next_item

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config" / "instruments"


@cache
def _all() -> dict[str, Instrument]:
    return load_instruments(CONFIG_DIR)


def instrument(instrument_id: str) -> Instrument:
    """An instrument from the real config/instruments/ directory."""
    return _all()[instrument_id]


def spread_total(
    inst: Instrument, total: int, fixed: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Answers to every scored item that add up to ``total``.

    ``fixed`` pins some answers (item id -> option code); the rest of the total is spread
    over the other scored items, filling each up to its highest value in file order.
    """
    answers = dict(fixed or {})
    remaining = total
    for item_id, code in answers.items():
        option = next(o for o in inst.options_for(inst.item(item_id)) if o.code == code)
        remaining -= option.value or 0
    for item in inst.items:
        if not item.scored or item.id in answers:
            continue
        options = [o for o in inst.options_for(item) if o.value is not None]
        fitting = [o for o in options if o.value is not None and o.value <= remaining]
        best = max(fitting, key=lambda o: o.value or 0)
        answers[item.id] = best.code
        remaining -= best.value or 0
    if remaining != 0:
        raise ValueError(f"cannot reach total {total} with {fixed}")
    return answers


def all_paths(inst: Instrument) -> Iterator[dict[str, str]]:
    """Every complete set of answers a person could give, following the branching."""

    def walk(answers: dict[str, str]) -> Iterator[dict[str, str]]:
        item = next_item(inst, answers)
        if item is None:
            yield answers
            return
        for option in inst.options_for(item):
            yield from walk({**answers, item.id: option.code})

    yield from walk({})


def answer_sequence(answers: Mapping[str, str]) -> list[dict[str, str]]:
    """The partial answer sets a person goes through, from none to all, in answer order."""
    steps: list[dict[str, str]] = [{}]
    for item_id, code in answers.items():
        steps.append({**steps[-1], item_id: code})
    return steps
