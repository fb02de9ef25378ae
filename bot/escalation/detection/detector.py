"""Crisis detection in free text: one message in, an ``Assessment`` out.

The detector combines three parts loaded from ``config/crisis/``: the normaliser, the word
classes (``concepts.yaml``) with the curated phrase lexicon (``es.yaml``, ``en.yaml``), and a
linear model trained on the labelled corpus (``model.json``). It answers one of three
outcomes:

* ``CRISIS``: certain enough to give the crisis reply and escalate at once;
* ``UNSURE``: ask the person directly ("¿Está pensando en quitarse la vida?");
* ``NONE``.

``Assessment.ask_if_unrecognised`` says whether a message that the conversation could not
read as an answer is still worth the check question (a lower threshold: mid-questionnaire,
free text is unusual and asking costs little). Thresholds are chosen on the development
split by ``python -m tools.train`` and stored with the model.

Pure and thread-safe: no I/O after loading.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from bot.escalation.detection.concepts import ConceptTagger, load_concepts
from bot.escalation.detection.features import analyse, vector, windows
from bot.escalation.detection.lexicon import Lexicon, load_lexicon
from bot.escalation.detection.model import Model, load_model

#: Categories whose messages concern someone else (the reply speaks to a helper).
THIRD_PARTY = frozenset({"third_party", "third_party_emergency"})


class Outcome(StrEnum):
    CRISIS = "crisis"
    UNSURE = "unsure"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Assessment:
    """What the detector made of a message.

    ``category``: the most likely kind of risk (see ``corpus.RISK_CATEGORIES``) when the
    score reaches the lowest threshold; otherwise ``suicidal_ideation`` (unused).
    ``score``: the model's risk probability.
    ``matched``: the curated phrase as the person typed it, if one was found, else "".
    ``rule``: ``lexicon:<pattern id>`` or ``model``, for the record of why.
    ``lexicon_priority``: the curated phrase's priority when one was found.
    """

    outcome: Outcome
    category: str
    score: float
    matched: str
    rule: str
    ask_if_unrecognised: bool
    lexicon_priority: str | None = None

    @property
    def about_someone_else(self) -> bool:
        return self.category in THIRD_PARTY


NO_RISK = Assessment(Outcome.NONE, "suicidal_ideation", 0.0, "", "model", False)


@dataclass(frozen=True, slots=True, eq=False)  # hashed by identity: results are cached per detector
class Detector:
    tagger: ConceptTagger
    lexicon: Lexicon
    model: Model

    def assess(self, text: str) -> Assessment:
        analysed = analyse(text, self.tagger, self.lexicon)
        if not analysed.words:
            return NO_RISK
        readings = windows(analysed, self.tagger)
        score, reading = max(
            ((self.model.risk(vector(a, text)), a) for a in readings), key=lambda s: s[0]
        )
        thresholds = self.model.thresholds
        if score >= thresholds.crisis:
            outcome = Outcome.CRISIS
        elif score >= thresholds.unsure:
            outcome = Outcome.UNSURE
        else:
            outcome = Outcome.NONE
        # The category head costs more than the risk head: only when the answer needs it.
        category = (
            self.model.category(vector(reading, text, characters=False))[0]
            if score >= thresholds.unrecognised
            else "suicidal_ideation"
        )
        rule = f"lexicon:{analysed.lexicon_pattern}" if analysed.lexicon_pattern else "model"
        return Assessment(
            outcome=outcome,
            category=category,
            score=score,
            matched=analysed.lexicon_matched,
            rule=rule,
            ask_if_unrecognised=score >= thresholds.unrecognised,
            lexicon_priority=analysed.lexicon_priority,
        )


def load_detector(directory: Path) -> Detector:
    """Read and check every detector file in ``directory`` (``config/crisis``)."""
    return Detector(
        tagger=load_concepts(directory),
        lexicon=load_lexicon(directory),
        model=load_model(directory),
    )
