"""Which question comes next, and how far along the person is.

Questions are asked in file order. A question with ``ask_if`` is asked only when its
condition holds on the answers to the earlier questions that were asked; the schema makes
sure ``ask_if`` only looks at earlier questions.

Each question is in one of four states (see :func:`item_states`):

* ``answered``: it applies and has an answer;
* ``pending``: it applies and has no answer yet;
* ``undetermined``: whether it applies depends on a question not answered yet;
* ``skipped``: it does not apply (an answer given to it anyway is ignored).

Answers may arrive out of order (a gate's answers are carried into the full instrument),
so "next" is the first ``pending`` question, not the one after the last answer.
"""

from __future__ import annotations

from enum import StrEnum

from bot.instruments.schema import Instrument, Item
from bot.scoring.answers import Answers, check_answers
from bot.scoring.conditions import Facts, evaluate

__all__ = [
    "ItemState",
    "applicable_answers",
    "is_complete",
    "item_states",
    "missing_items",
    "next_item",
    "progress",
]


class ItemState(StrEnum):
    ANSWERED = "answered"
    PENDING = "pending"
    UNDETERMINED = "undetermined"
    SKIPPED = "skipped"


def item_states(instrument: Instrument, answers: Answers) -> dict[str, ItemState]:
    """The state of every item, in file order. ``ValueError`` on an unknown item or code."""
    check_answers(instrument, answers)
    given: dict[str, str] = {}
    pending: set[str] = set()
    states: dict[str, ItemState] = {}
    for item in instrument.items:
        if item.ask_if is None:
            applies: bool | None = True
        else:
            applies = evaluate(item.ask_if, Facts(instrument, given, frozenset(pending)))
        if applies is True and item.id in answers:
            states[item.id] = ItemState.ANSWERED
            given[item.id] = answers[item.id]
        elif applies is True:
            states[item.id] = ItemState.PENDING
            pending.add(item.id)
        elif applies is False:
            states[item.id] = ItemState.SKIPPED
        else:
            states[item.id] = ItemState.UNDETERMINED
            pending.add(item.id)
    return states


def applicable_answers(instrument: Instrument, answers: Answers) -> dict[str, str]:
    """The answers to questions that apply; answers to skipped questions are dropped."""
    states = item_states(instrument, answers)
    return {i: answers[i] for i, state in states.items() if state is ItemState.ANSWERED}


def missing_items(instrument: Instrument, answers: Answers) -> list[str]:
    """Questions that apply, or may apply, and are not answered yet (file order)."""
    states = item_states(instrument, answers)
    return [
        i for i, state in states.items() if state in (ItemState.PENDING, ItemState.UNDETERMINED)
    ]


def next_item(instrument: Instrument, answers: Answers) -> Item | None:
    """The next question to ask, or ``None`` when every question that applies is answered."""
    for item_id, state in item_states(instrument, answers).items():
        if state is ItemState.PENDING:
            return instrument.item(item_id)
    return None


def is_complete(instrument: Instrument, answers: Answers) -> bool:
    return next_item(instrument, answers) is None


def progress(instrument: Instrument, answers: Answers) -> tuple[int, int]:
    """``(position, total)`` for "question {position} of {total}".

    ``total`` counts the questions that apply given the answers so far (answered or
    pending). A question whose ``ask_if`` is still undetermined is not counted until it is
    decided, so ``total`` may grow as answers come in, but never shrinks when an answer is
    added. ``position`` is the 1-based place of the next question among them. When every
    question is answered, ``position`` is ``total + 1``.
    """
    states = item_states(instrument, answers)
    counted = [i for i, s in states.items() if s in (ItemState.ANSWERED, ItemState.PENDING)]
    total = len(counted)
    for position, item_id in enumerate(counted, start=1):
        if states[item_id] is ItemState.PENDING:
            return position, total
    return total + 1, total
