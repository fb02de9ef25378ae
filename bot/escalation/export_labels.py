"""Write the reviewers' labels in the corpus format, for the next training.

    python -m bot.escalation.export-labels [--out PATH] [--since YYYY-MM-DD]
                                           [--database-url URL]

Every labelled message kept for review (``bot.escalation.review``) becomes one row of
``tests/data/crisis/corpus.csv``'s format: id ``r<id>``, its own family ``review-<id>`` (so
its split follows ``corpus.split_of``), category the detector's guess for a risk row
(``suicidal_ideation`` when it had none) and ``reviewed`` for a no-risk row, source
``review``. ``--since``: only labels given on or after that day (Lima time). The default
output ``var/review-labels.csv`` is ignored by git on purpose: the file holds what people
typed, to be checked and anonymised before any of it joins the corpus.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.db.models import DetectionReview
from bot.escalation.detection.corpus import (
    LANGUAGES,
    REVIEWED,
    RISK_CATEGORIES,
    Row,
    split_of,
    write_corpus,
)

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "var" / "review-labels.csv"
LIMA = ZoneInfo("America/Lima")
RISK_FALLBACK = "suicidal_ideation"
CAVEAT = (
    "privacy: {path} holds what people typed; keep it out of git until it has been "
    "checked and anonymised"
)


def corpus_rows(reviews: Iterable[DetectionReview]) -> list[Row]:
    """Labelled reviews with their text, as corpus rows."""
    rows: list[Row] = []
    for review in reviews:
        if review.label not in (0, 1) or not review.text or review.id is None:
            continue
        family = f"review-{review.id}"
        if review.label == 1:
            category = review.category if review.category in RISK_CATEGORIES else RISK_FALLBACK
        else:
            category = REVIEWED
        rows.append(
            Row(
                id=f"r{review.id}",
                family=family,
                split=split_of(family),
                text=review.text.strip(),
                label=review.label,
                category=category or RISK_FALLBACK,
                language=review.language if review.language in LANGUAGES else "es",
                style="reviewed",
                clarity="reviewed",
                source="review",
                note="",
            )
        )
    return rows


def _day_start(text: str) -> datetime:
    return datetime.combine(date.fromisoformat(text), time(0), LIMA).astimezone(UTC)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.escalation.export-labels", description=__doc__
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--since", default=None, help="first day, YYYY-MM-DD (Lima time)")
    parser.add_argument("--database-url", default=None, help="default: the DATABASE_URL setting")
    args = parser.parse_args(argv)
    try:
        since = _day_start(args.since) if args.since else None
    except ValueError:
        print("--since takes a date as YYYY-MM-DD", file=sys.stderr)
        return 2

    from bot.db.engine import make_engine
    from bot.escalation.review.store import labelled_since

    url = args.database_url
    if url is None:
        from bot.settings import load_settings

        url = load_settings().database_url
    engine = make_engine(url)
    try:
        rows = corpus_rows(labelled_since(engine, since))
    finally:
        engine.dispose()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_corpus(args.out, rows)
    risk = sum(row.label for row in rows)
    print(f"wrote {args.out}: {len(rows)} labelled messages ({risk} risk)")
    print(CAVEAT.format(path=args.out), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
