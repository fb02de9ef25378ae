"""Figures for the detector on labelled messages: overall, by kind and by language.

Two contexts are scored, because the service answers differently in each:

* **anywhere** (a message in the menu, while waiting, after a result…): ``CRISIS`` gives the
  crisis reply, ``UNSURE`` the check question;
* **questionnaire** (a message typed where an answer was expected, that is not an answer):
  as above, and the check question also when ``ask_if_unrecognised``.

*Caught* = a crisis reply or a check question on a risk message. *False alarm* = a crisis
reply on a no-risk message. *Asked* = a check question on a no-risk message.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.escalation.detection.concepts import load_concepts
from bot.escalation.detection.corpus import Row, read_corpus
from bot.escalation.detection.detector import Assessment, Detector, Outcome
from bot.escalation.detection.lexicon import load_lexicon
from bot.escalation.detection.model import Model

#: The suite fails below / above these on the test split (issue 10).
MIN_RECALL = 0.95
MAX_CRISIS_FALSE_ALARMS = 0.05
MAX_ASKED = 0.20

CONTEXTS = ("questionnaire", "anywhere")


def response(assessment: Assessment, context: str) -> str:
    """``crisis``, ``ask`` or ``none``: what the person gets in ``context``."""
    if assessment.outcome is Outcome.CRISIS:
        return "crisis"
    if assessment.outcome is Outcome.UNSURE:
        return "ask"
    if context == "questionnaire" and assessment.ask_if_unrecognised:
        return "ask"
    return "none"


@dataclass(slots=True)
class Tally:
    risk: int = 0
    caught: int = 0
    caught_crisis: int = 0
    safe: int = 0
    false_alarms: int = 0
    asked: int = 0

    def add(self, is_risk: bool, answer: str) -> None:
        if is_risk:
            self.risk += 1
            self.caught += answer != "none"
            self.caught_crisis += answer == "crisis"
        else:
            self.safe += 1
            self.false_alarms += answer == "crisis"
            self.asked += answer == "ask"

    @property
    def recall(self) -> float:
        return self.caught / self.risk if self.risk else float("nan")

    @property
    def crisis_recall(self) -> float:
        return self.caught_crisis / self.risk if self.risk else float("nan")

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / self.safe if self.safe else float("nan")

    @property
    def asked_rate(self) -> float:
        return self.asked / self.safe if self.safe else float("nan")

    def line(self) -> str:
        parts = []
        if self.risk:
            parts.append(
                f"caught {self.recall:6.1%} ({self.caught}/{self.risk}, "
                f"crisis reply {self.crisis_recall:6.1%})"
            )
        if self.safe:
            parts.append(
                f"false alarms {self.false_alarm_rate:5.1%} ({self.false_alarms}/{self.safe}), "
                f"asked {self.asked_rate:5.1%} ({self.asked})"
            )
        return "  ".join(parts)


@dataclass(slots=True)
class Report:
    context: str
    overall: Tally = field(default_factory=Tally)
    by_kind: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_language: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    misses: list[tuple[Row, Assessment | None]] = field(default_factory=list)
    alarms: list[tuple[Row, Assessment | None]] = field(default_factory=list)
    timings_us: list[float] = field(default_factory=list)

    def add(self, row: Row, assessment: Assessment, elapsed_us: float) -> None:
        self.record(row, response(assessment, self.context), assessment, elapsed_us)

    def record(
        self, row: Row, answer: str, assessment: Assessment | None, elapsed_us: float
    ) -> None:
        """Count what ``row`` got: ``crisis``, ``ask`` or ``none``."""
        for tally in (
            self.overall,
            self.by_kind[row.category],
            self.by_language[row.language],
        ):
            tally.add(row.is_risk, answer)
        if row.is_risk and answer == "none":
            self.misses.append((row, assessment))
        if not row.is_risk and answer == "crisis":
            self.alarms.append((row, assessment))
        self.timings_us.append(elapsed_us)

    @property
    def passed(self) -> bool:
        o = self.overall
        return (
            o.recall >= MIN_RECALL
            and o.false_alarm_rate <= MAX_CRISIS_FALSE_ALARMS
            and o.asked_rate <= MAX_ASKED
        )

    def summary(self) -> str:
        return f"[{self.context}] {self.overall.line()}"

    def percentile_us(self, q: float) -> float:
        if len(self.timings_us) < 2:
            return self.timings_us[0] if self.timings_us else 0.0
        return statistics.quantiles(self.timings_us, n=100, method="inclusive")[int(q) - 1]


def score(
    rows: Iterable[Row], detector: Detector, contexts: Sequence[str] = CONTEXTS
) -> dict[str, Report]:
    reports = {context: Report(context) for context in contexts}
    for row in rows:
        started = time.perf_counter()
        assessment = detector.assess(row.text)
        elapsed = (time.perf_counter() - started) * 1e6
        for report in reports.values():
            report.add(row, assessment, elapsed)
    return reports


def score_rows(corpus: Path, config_dir: Path, model: Model, *, split: str) -> Report:
    """The questionnaire-context report of ``model`` on one split (used when tuning)."""
    detector = Detector(load_concepts(config_dir), load_lexicon(config_dir), model)
    rows = [row for row in read_corpus(corpus) if row.split == split]
    return score(rows, detector, ("questionnaire",))["questionnaire"]
