"""Measure crisis detection on labelled messages, by kind and by language.

    python -m tools.evaluate [--split test|dev|train] [--external PATH]
                             [--config DIR] [--corpus PATH] [--show-errors]

Prints, for the chosen split of ``tests/data/crisis/corpus.csv`` (default ``test``, the
split nothing was tuned on) and for the independent set ``tests/data/crisis/external.csv``
when present: how many risk messages are caught (a crisis reply or the check question),
how many no-risk messages get a crisis reply (false alarms) or the check question (asked),
in the two contexts of ``tools.detection.evaluation``; and the time per message.
Exit code 1 when the chosen split misses the targets (recall >= 0.95, false alarms <= 0.05,
asked <= 0.20, in both contexts).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.escalation.detection.corpus import Row, read_corpus, read_external
from bot.escalation.detection.detector import Assessment, load_detector
from tools.detection.evaluation import (
    MAX_ASKED,
    MAX_CRISIS_FALSE_ALARMS,
    MIN_RECALL,
    Report,
    score,
)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT / "tests" / "data" / "crisis" / "corpus.csv"
DEFAULT_EXTERNAL = ROOT / "tests" / "data" / "crisis" / "external.csv"
DEFAULT_CONFIG = ROOT / "config" / "crisis"


def print_report(title: str, report: Report, *, show_errors: bool) -> None:
    print(f"\n== {title}: context '{report.context}'")
    print(f"   all           {report.overall.line()}")
    print("   by kind:")
    for kind, tally in sorted(report.by_kind.items(), key=lambda kv: (kv[1].risk == 0, kv[0])):
        print(f"     {kind:<22} {tally.line()}")
    print("   by language:")
    for language, tally in sorted(report.by_language.items()):
        print(f"     {language:<22} {tally.line()}")
    if show_errors:
        for row, assessment in report.misses:
            print(f"   MISSED  {_score(assessment)} [{row.category}] {row.text}")
        for row, assessment in report.alarms:
            print(f"   ALARM   {_score(assessment)} [{row.category}] {row.text}")


def _score(assessment: Assessment | None) -> str:
    return f"{assessment.score:.2f}" if assessment is not None else "  - "


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.evaluate", description=__doc__)
    parser.add_argument("--split", choices=("test", "dev", "train"), default="test")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--external", type=Path, default=DEFAULT_EXTERNAL)
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--show-errors", action="store_true", help="print every miss and alarm")
    parser.add_argument(
        "--conversation",
        action="store_true",
        help="also type each message mid-PHQ-9 through the conversation engine",
    )
    args = parser.parse_args(argv)

    detector = load_detector(args.config)
    rows = [row for row in read_corpus(args.corpus) if row.split == args.split]
    reports = score(rows, detector)
    passed = True
    for report in reports.values():
        print_report(
            f"{args.split} split ({len(rows)} messages)", report, show_errors=args.show_errors
        )
        passed = passed and report.passed
    if args.external.exists():
        external = read_external(args.external)
        for report in score(external, detector).values():
            print_report(
                f"independent set ({len(external)} messages)", report, show_errors=args.show_errors
            )
    if args.conversation:
        passed = _conversation(args, rows) and passed
    timings = reports["questionnaire"]
    print(
        f"\ntime per message: p50 {timings.percentile_us(50):.0f} µs, "
        f"p99 {timings.percentile_us(99):.0f} µs"
    )
    targets = (
        f"caught >= {MIN_RECALL:.0%}, false alarms <= {MAX_CRISIS_FALSE_ALARMS:.0%}, "
        f"asked <= {MAX_ASKED:.0%}"
    )
    print(f"{args.split} split {'meets' if passed else 'MISSES'} the targets ({targets})")
    return 0 if passed else 1


def _conversation(args: argparse.Namespace, rows: list[Row]) -> bool:
    """The same messages typed mid-PHQ-9 through the engine (``conversation_eval``)."""
    from bot.content import load_content
    from bot.escalation.crisis import concern_detector, crisis_detector
    from bot.flows import Engine
    from tools.detection.conversation_eval import score_in_conversation

    content = load_content(args.config.parent)
    engine = Engine(
        content,
        detect_crisis=crisis_detector(args.config),
        detect_concern=concern_detector(args.config),
    )
    report = score_in_conversation(rows, content, engine)
    print_report(f"{args.split} split ({len(rows)} messages)", report, show_errors=args.show_errors)
    if args.external.exists():
        external = read_external(args.external)
        print_report(
            f"independent set ({len(external)} messages)",
            score_in_conversation(external, content, engine),
            show_errors=args.show_errors,
        )
    return report.passed


if __name__ == "__main__":
    sys.exit(main())
