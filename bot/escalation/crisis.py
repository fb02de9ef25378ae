"""Adapts free-text crisis detection to the conversation engine's detector interface."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from bot.content.priorities import PriorityTable, load_priorities
from bot.escalation.detection import Assessment, Detector, Outcome, load_detector
from bot.flows.machine import CrisisDetector, CrisisMatch


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


def priority_table(directory: Path) -> PriorityTable:
    """The one priority table, ``config/priorities.yaml`` beside the detector's folder."""
    return load_priorities(directory.resolve().parent / "priorities.yaml")


def crisis_detector(directory: Path) -> CrisisDetector:
    detector = cached_detector(directory)
    table = priority_table(directory)
    remembered = lru_cache(maxsize=REMEMBERED_TEXTS)(lambda text: _detect(text, detector, table))

    def detect_crisis(text: str) -> CrisisMatch | None:
        if len(text) <= REMEMBERED_LENGTH:
            return remembered(text)
        return _detect(text, detector, table)

    return detect_crisis


def _detect(text: str, detector: Detector, table: PriorityTable) -> CrisisMatch | None:
    found: Assessment = detector.assess(text)
    if found.outcome is not Outcome.CRISIS:
        return None
    return CrisisMatch(
        category=found.category,
        # A category the table does not list is "high": never lower (the loader checks
        # that every detector category has a row).
        priority=table.priority_of(found.category, default="high"),
        pattern_id=found.rule.removeprefix("lexicon:"),
        matched=found.matched or text[:200],
    )
