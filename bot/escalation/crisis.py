"""Adapts free-text crisis detection to the conversation engine's detector interface."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from bot.escalation.detection import Lexicon, detect, load_lexicon
from bot.flows.machine import CrisisDetector, CrisisMatch


@lru_cache(maxsize=8)
def _lexicon(directory: Path, _stamp: tuple[tuple[str, int], ...]) -> Lexicon:
    return load_lexicon(directory)


def cached_lexicon(directory: Path) -> Lexicon:
    """Compiling the lexicon takes a moment: reuse it while its files are unchanged."""
    directory = directory.resolve()
    stamp = tuple(sorted((p.name, p.stat().st_mtime_ns) for p in directory.glob("*.yaml")))
    return _lexicon(directory, stamp)


#: Results remembered per text: a message is checked at the webhook (to wake the crisis
#: lane), by the lane, and by its conversation step, all in the server's process.
REMEMBERED_TEXTS = 4096
#: Longer texts are checked each time rather than kept in memory.
REMEMBERED_LENGTH = 500


def crisis_detector(directory: Path) -> CrisisDetector:
    lexicon = cached_lexicon(directory)
    remembered = lru_cache(maxsize=REMEMBERED_TEXTS)(lambda text: _detect(text, lexicon))

    def detect_crisis(text: str) -> CrisisMatch | None:
        return remembered(text) if len(text) <= REMEMBERED_LENGTH else _detect(text, lexicon)

    return detect_crisis


def _detect(text: str, lexicon: Lexicon) -> CrisisMatch | None:
    found = detect(text, lexicon)
    if found is None:
        return None
    return CrisisMatch(
        category=found.category,
        priority=str(found.priority),
        pattern_id=found.pattern_id,
        matched=found.matched,
    )
