"""Adapts free-text crisis detection to the conversation engine's detector interfaces.

The engine asks two things of a message: is it certainly a crisis (``CrisisMatch``: the
crisis reply and an escalation), and if not, is there enough risk to ask the check
question (``Concern``)? Both come from one assessment, remembered per text.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from bot.content.priorities import PriorityTable, load_priorities
from bot.escalation.detection import Assessment, Detector, Outcome, load_detector
from bot.flows.concern import Concern, ConcernDetector
from bot.flows.machine import CrisisDetector, CrisisMatch
from bot.instruments.schema import Priority


@lru_cache(maxsize=8)
def _detector(directory: Path, _stamp: tuple[tuple[str, int], ...]) -> Detector:
    return load_detector(directory)


def cached_detector(directory: Path) -> Detector:
    """Loading the detector takes a moment: reuse it while its files are unchanged."""
    directory = directory.resolve()
    files = [*directory.glob("*.yaml"), *directory.glob("*.json")]
    stamp = tuple(sorted((p.name, p.stat().st_mtime_ns) for p in files))
    return _detector(directory, stamp)


#: Results remembered per text: a message is checked at the webhook (to wake the crisis
#: lane), by the lane, and by its conversation step, all in the server's process.
REMEMBERED_TEXTS = 4096
#: Longer texts are checked each time rather than kept in memory.
REMEMBERED_LENGTH = 500

Assess = Callable[[str], Assessment]


@lru_cache(maxsize=8)
def _assessor(detector: Detector) -> Assess:
    remembered = lru_cache(maxsize=REMEMBERED_TEXTS)(detector.assess)

    def assess(text: str) -> Assessment:
        return remembered(text) if len(text) <= REMEMBERED_LENGTH else detector.assess(text)

    return assess


def priority_table(directory: Path) -> PriorityTable:
    """The one priority table, ``config/priorities.yaml`` beside the detector's folder."""
    return load_priorities(directory.resolve().parent / "priorities.yaml")


def crisis_detector(directory: Path) -> CrisisDetector:
    assess = _assessor(cached_detector(directory))
    table = priority_table(directory)

    def detect_crisis(text: str) -> CrisisMatch | None:
        return crisis_match(assess(text), text, table)

    return detect_crisis


def concern_detector(directory: Path) -> ConcernDetector:
    assess = _assessor(cached_detector(directory))

    def detect_concern(text: str) -> Concern | None:
        found = assess(text)
        if found.outcome is Outcome.UNSURE:
            return Concern(category=found.category, score=found.score)
        if found.outcome is Outcome.NONE and found.ask_if_unrecognised:
            return Concern(category=found.category, score=found.score, unrecognised_only=True)
        return None

    return detect_concern


def crisis_match(found: Assessment, text: str, table: PriorityTable) -> CrisisMatch | None:
    """A certain crisis as the engine records it; None for anything less."""
    if found.outcome is not Outcome.CRISIS:
        return None
    return CrisisMatch(
        category=found.category,
        priority=priority_of(found, table),
        pattern_id=found.rule.removeprefix("lexicon:"),
        matched=found.matched or text[:200],
    )


def priority_of(found: Assessment, table: PriorityTable) -> str:
    """The more urgent of the category's row in the one priority table
    (``config/priorities.yaml``) and the curated phrase's priority, if one matched. A
    category the table does not list is "high": never lower (the loader checks that every
    detector category has a row)."""
    candidates = [Priority(table.priority_of(found.category, default="high"))]
    if found.lexicon_priority is not None:
        candidates.append(Priority(found.lexicon_priority))
    return max(candidates, key=lambda p: p.rank).value
