"""Evaluate the conditions of an instrument file (``ask_if``, result ``when``, rule ``when``).

Evaluation is three-valued so that branching can tell "not yet known" from "false":

* an item that was answered is compared with its answer;
* an item listed in ``Facts.pending`` (it may still be asked) makes an item condition unknown
  (``None``);
* any other unanswered item was not asked, so an item condition on it is ``False``;
* a total or result that is not known (``None``) makes its condition unknown.

``any``/``all``/``none`` combine with Kleene logic: ``any`` is true as soon as one part is
true, ``all`` is false as soon as one part is false, ``none`` is the negation of ``any``.
An answer whose option has no value (e.g. "I prefer not to answer") never satisfies ``gte``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.instruments.schema import (
    AllOf,
    AnyOf,
    Condition,
    Instrument,
    ItemAtLeast,
    ItemIs,
    NoneOf,
    ResultIs,
    TotalAtLeast,
)
from bot.scoring.answers import Answers, option_of

__all__ = ["Facts", "evaluate", "evidence", "holds"]


@dataclass(frozen=True, slots=True)
class Facts:
    """What is known when a condition is evaluated.

    ``answers`` holds only the answers of questions that apply (were asked); ``pending`` the
    ids of questions that may still be asked.
    """

    instrument: Instrument
    answers: Answers
    pending: frozenset[str] = field(default_factory=frozenset)
    total: int | None = None
    result: str | None = None


def _any(values: list[bool | None]) -> bool | None:
    if any(v is True for v in values):
        return True
    if all(v is False for v in values):
        return False
    return None


def _all(values: list[bool | None]) -> bool | None:
    if any(v is False for v in values):
        return False
    if all(v is True for v in values):
        return True
    return None


def _item_value(item_id: str, facts: Facts) -> int | None:
    item = facts.instrument.item(item_id)
    return option_of(facts.instrument, item, facts.answers[item_id]).value


def evaluate(cond: Condition, facts: Facts) -> bool | None:
    """``True``/``False``, or ``None`` when it depends on something not known yet."""
    if isinstance(cond, ItemIs | ItemAtLeast):
        if cond.item not in facts.answers:
            return None if cond.item in facts.pending else False
        if isinstance(cond, ItemIs):
            return facts.answers[cond.item] in cond.in_
        value = _item_value(cond.item, facts)
        return value is not None and value >= cond.gte
    if isinstance(cond, TotalAtLeast):
        return None if facts.total is None else facts.total >= cond.total_gte
    if isinstance(cond, ResultIs):
        return None if facts.result is None else facts.result in cond.result_in
    if isinstance(cond, AnyOf):
        return _any([evaluate(c, facts) for c in cond.any])
    if isinstance(cond, AllOf):
        return _all([evaluate(c, facts) for c in cond.all])
    if isinstance(cond, NoneOf):
        found = _any([evaluate(c, facts) for c in cond.none])
        return None if found is None else not found
    raise TypeError(f"unknown condition {cond!r}")


def holds(cond: Condition, facts: Facts) -> bool:
    """The condition is known to be true."""
    return evaluate(cond, facts) is True


def evidence(cond: Condition, facts: Facts) -> set[str]:
    """The answered items that make a true condition true (empty when it does not hold).

    A total counts every scored item answered above zero; a result counts the items of the
    result's own ``when``; ``none`` (an absence) names no item.
    """
    if not holds(cond, facts):
        return set()
    if isinstance(cond, ItemIs | ItemAtLeast):
        return {cond.item}
    if isinstance(cond, TotalAtLeast):
        return {
            item.id
            for item in facts.instrument.items
            if item.scored and item.id in facts.answers and (_item_value(item.id, facts) or 0) > 0
        }
    if isinstance(cond, ResultIs):
        for result in facts.instrument.results:
            if result.code == facts.result and result.when is not None:
                return evidence(result.when, facts)
        return set()
    if isinstance(cond, AnyOf | AllOf):
        parts = cond.any if isinstance(cond, AnyOf) else cond.all
        return set().union(*(evidence(c, facts) for c in parts))
    return set()
