"""Risk signals at the moment an answer is given, from the one priority table
(``config/priorities.yaml``).

A signal raised here is never taken back: leaving the questionnaire (MENÚ, SALIR, BORRAR,
silence) leaves it in place, because it is a ``RaiseSignal`` effect committed with the
answer's step. Later answers may raise another signal of higher priority (the case's
priority only goes up). What has been raised in the current instrument is remembered in the
conversation's context (``raised``) so that completion does not repeat it.
"""

from __future__ import annotations

from bot.content import Content
from bot.content.priorities import PRIORITY_ORDER
from bot.flows.state import ConvState, Step
from bot.flows.types import RaiseSignal

RAISED = "raised"
ASK_NOW = "ask_now"


def _rank(priority: str) -> int:
    return PRIORITY_ORDER.index(priority) if priority in PRIORITY_ORDER else len(PRIORITY_ORDER)


def highest_raised(conv: ConvState) -> str | None:
    """The most urgent priority raised in the current instrument, if any."""
    raised: dict[str, str] = conv.context.get(RAISED) or {}
    if not raised:
        return None
    return min(raised.values(), key=_rank)


def on_answer(content: Content, conv: ConvState, item_id: str, code: str, step: Step) -> None:
    """Raise the table's signal for this answer, unless one as urgent was already raised."""
    instrument_id = conv.instrument_id or ""
    row = content.priorities.for_answer(instrument_id, item_id, code)
    if row is None:
        return
    if row.ask_now:
        conv.context[ASK_NOW] = True
    raised: dict[str, str] = dict(conv.context.get(RAISED) or {})
    highest = highest_raised(conv)
    raised[row.id] = row.priority
    conv.context[RAISED] = raised
    if highest is not None and _rank(highest) <= _rank(row.priority):
        return  # nothing more urgent to say: the case already has this priority
    step.effects.append(
        RaiseSignal(
            source="instrument",
            rule_id=row.id,
            priority=row.priority,
            reason=row.reason,
            detail={
                "instrument": instrument_id,
                "items": [item_id],
                "answers": dict(conv.answers),
                "at_answer": True,
                # Every answer row of config/priorities.yaml is a suicide item (PHQ-9 item 9,
                # ASQ, C-SSRS): counted as a suicide-risk signal in the reports.
                "flag": "suicide_item",
            },
        )
    )


def completion_priority(content: Content, instrument_id: str, rule_id: str, default: str) -> str:
    row = content.priorities.for_rule(instrument_id, rule_id)
    return row.priority if row is not None else default


def already_raised(conv: ConvState, priority: str) -> bool:
    """Whether an answer in this instrument already raised a signal at least this urgent."""
    highest = highest_raised(conv)
    return highest is not None and _rank(highest) <= _rank(priority)


def more_urgent_of(a: str | None, b: str) -> str:
    if a is None:
        return b
    return a if _rank(a) <= _rank(b) else b
