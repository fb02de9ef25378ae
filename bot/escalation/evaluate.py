"""Measure crisis detection against a labelled set of messages.

    python -m bot.escalation.evaluate [--csv PATH] [--config DIR]

The CSV has columns ``text,label,language,note`` (label 1 = crisis signal). Rows whose note
starts with "unseen" are phrasings deliberately kept out of the lexicon; their recall is
reported separately as an honest estimate of generalisation. Exit code 1 when recall is
below ``MIN_RECALL`` or the false-alarm rate is above ``MAX_FALSE_ALARM_RATE``.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.escalation.detection import Detection, Lexicon, detect, load_lexicon

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CSV = ROOT / "tests" / "data" / "crisis_labelled.csv"
DEFAULT_CONFIG = ROOT / "config" / "crisis"
MIN_RECALL = 0.95
MAX_FALSE_ALARM_RATE = 0.10


@dataclass(frozen=True, slots=True)
class Row:
    text: str
    label: int
    language: str
    note: str

    @property
    def unseen(self) -> bool:
        return self.note.startswith("unseen")


@dataclass(slots=True)
class Report:
    """Confusion counts, the rows behind the errors, and per-message timings."""

    true_positives: int = 0
    false_positives: int = 0
    true_negatives: int = 0
    false_negatives: int = 0
    unseen_total: int = 0
    unseen_found: int = 0
    misses: list[Row] = field(default_factory=list)
    false_alarms: list[tuple[Row, Detection]] = field(default_factory=list)
    timings_us: list[float] = field(default_factory=list)

    @property
    def positives(self) -> int:
        return self.true_positives + self.false_negatives

    @property
    def negatives(self) -> int:
        return self.true_negatives + self.false_positives

    @property
    def recall(self) -> float:
        return self.true_positives / self.positives if self.positives else 1.0

    @property
    def false_alarm_rate(self) -> float:
        return self.false_positives / self.negatives if self.negatives else 0.0

    @property
    def precision(self) -> float:
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else 1.0

    @property
    def passed(self) -> bool:
        return self.recall >= MIN_RECALL and self.false_alarm_rate <= MAX_FALSE_ALARM_RATE


def load_rows(path: Path) -> list[Row]:
    """The labelled rows of ``path``; raises ValueError on a malformed row."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = []
        for line, record in enumerate(csv.DictReader(handle), start=2):
            if record["label"] not in ("0", "1"):
                raise ValueError(f"{path}:{line}: label must be 0 or 1")
            rows.append(
                Row(record["text"], int(record["label"]), record["language"], record["note"])
            )
    return rows


def _record(report: Report, row: Row, found: Detection | None) -> None:
    if row.label == 1:
        report.unseen_total += row.unseen
        report.unseen_found += row.unseen and found is not None
        if found is None:
            report.false_negatives += 1
            report.misses.append(row)
        else:
            report.true_positives += 1
    elif found is None:
        report.true_negatives += 1
    else:
        report.false_positives += 1
        report.false_alarms.append((row, found))


def evaluate(rows: Sequence[Row], lexicon: Lexicon) -> Report:
    """Run ``detect`` on every row and tally the outcome."""
    report = Report()
    for row in rows:
        started = time.perf_counter()
        found = detect(row.text, lexicon)
        report.timings_us.append((time.perf_counter() - started) * 1e6)
        _record(report, row, found)
    return report


def _percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def format_report(report: Report) -> str:
    """A human-readable summary: figures first, then every miss and false alarm."""
    unseen = report.unseen_found / report.unseen_total if report.unseen_total else 1.0
    lines = [
        f"rows: {report.positives + report.negatives} "
        f"(positives {report.positives}, negatives {report.negatives})",
        f"TP {report.true_positives}  FN {report.false_negatives}  "
        f"TN {report.true_negatives}  FP {report.false_positives}",
        f"recall: {report.recall:.3f}  (minimum {MIN_RECALL})",
        f"false-alarm rate (FP / negatives): {report.false_alarm_rate:.3f}  "
        f"(maximum {MAX_FALSE_ALARM_RATE})",
        f"precision: {report.precision:.3f}",
        f"recall on 'unseen' phrasings: {report.unseen_found}/{report.unseen_total} = {unseen:.3f}",
        f"detect() latency: median {statistics.median(report.timings_us):.0f} us, "
        f"p99 {_percentile(report.timings_us, 0.99):.0f} us",
        f"misses ({len(report.misses)}):",
        *(f"  - [{row.language}] {row.text!r}  ({row.note})" for row in report.misses),
        f"false alarms ({len(report.false_alarms)}):",
        *(
            f"  - [{row.language}] {row.text!r}  -> {found.pattern_id} {found.matched!r}"
            for row, found in report.false_alarms
        ),
        "PASS" if report.passed else "FAIL",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV, help="labelled messages")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="lexicon folder")
    args = parser.parse_args(argv)
    report = evaluate(load_rows(args.csv), load_lexicon(args.config))
    print(format_report(report))
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
