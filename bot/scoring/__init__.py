"""Scoring of screening instruments: pure functions over an instrument file and answers.

Answers map an item id to the chosen option code. Nothing here knows about channels,
storage or wording beyond what the instrument file says.
"""

from bot.scoring.answers import Answers, check_answers, option_of
from bot.scoring.categorical import AsqResult, CssrsRisk, asq_result, cssrs_risk
from bot.scoring.conditions import Facts, evaluate, evidence, holds
from bot.scoring.flow import (
    ItemState,
    applicable_answers,
    is_complete,
    item_states,
    missing_items,
    next_item,
    progress,
)
from bot.scoring.score import RiskFlag, ScoreResult, score

__all__ = [
    "Answers",
    "AsqResult",
    "CssrsRisk",
    "Facts",
    "ItemState",
    "RiskFlag",
    "ScoreResult",
    "applicable_answers",
    "asq_result",
    "check_answers",
    "cssrs_risk",
    "evaluate",
    "evidence",
    "holds",
    "is_complete",
    "item_states",
    "missing_items",
    "next_item",
    "option_of",
    "progress",
    "score",
]
