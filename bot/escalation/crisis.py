"""Adapts free-text crisis detection to the conversation engine's detector interface."""

from __future__ import annotations

from pathlib import Path

from bot.escalation.detection import detect, load_lexicon
from bot.flows.machine import CrisisDetector, CrisisMatch


def crisis_detector(directory: Path) -> CrisisDetector:
    lexicon = load_lexicon(directory)

    def detect_crisis(text: str) -> CrisisMatch | None:
        found = detect(text, lexicon)
        if found is None:
            return None
        return CrisisMatch(
            category=found.category,
            priority=found.priority,
            pattern_id=found.pattern_id,
            matched=found.matched,
        )

    return detect_crisis
