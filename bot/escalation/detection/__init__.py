"""Crisis detection in free text: normalisation, word classes, a curated lexicon and a trained
linear model, answering crisis / unsure / none for every message (see ``detector``).

Public API::

    detector = load_detector(Path("config/crisis"))
    assessment = detector.assess("ya no quiero estar aquí")
    assessment.outcome  # Outcome.CRISIS, Outcome.UNSURE or Outcome.NONE

Training and evaluation are development tools (``tools.detection``), run by
``python -m tools.train`` and ``python -m tools.evaluate``.
"""

from bot.escalation.detection.concepts import ConceptError
from bot.escalation.detection.detector import (
    NO_RISK,
    Assessment,
    Detector,
    Outcome,
    load_detector,
)
from bot.escalation.detection.lexicon_file import LexiconError
from bot.escalation.detection.model import ModelError

__all__ = [
    "NO_RISK",
    "Assessment",
    "ConceptError",
    "Detector",
    "LexiconError",
    "ModelError",
    "Outcome",
    "load_detector",
]
