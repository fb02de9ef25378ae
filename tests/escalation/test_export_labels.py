"""``python -m bot.escalation.export-labels``: reviewers' labels in the corpus format, read
back by the corpus reader and measurable by the evaluation, with a privacy caveat."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from bot.db.models import DetectionReview
from bot.escalation.crisis import cached_detector
from bot.escalation.detection.corpus import REVIEWED, read_corpus, split_of
from bot.escalation.export_labels import main
from tools.detection.evaluation import score

ROOT = Path(__file__).resolve().parents[2]
LABELLED = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)


@pytest.fixture
def reviews(db: Engine) -> list[int]:
    rows = [
        DetectionReview(
            kind="unsure",
            text="ya no aguanto más",
            category="suicidal_ideation",
            score=0.4,
            label=1,
        ),
        DetectionReview(kind="unsure", text="everything is pointless", language="en", label=0),
        # A risk label without the detector's guess: the generic risk category.
        DetectionReview(kind="unrecognised", text="quiero desaparecer, no sé", label=1),
        DetectionReview(kind="unrecognised", text="todavía sin etiqueta"),
    ]
    with Session(db) as session:
        for row in rows:
            row.labelled_by = "luis" if row.label is not None else None
            row.labelled_at = LABELLED if row.label is not None else None
            session.add(row)
        session.commit()
        return [row.id or 0 for row in rows]


def test_labelled_reviews_become_corpus_rows(
    database_url: str,
    reviews: list[int],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "labels.csv"
    assert main(["--out", str(out), "--database-url", database_url]) == 0
    rows = read_corpus(out)
    first, second, third = reviews[:3]
    assert [(r.id, r.label, r.category, r.language) for r in rows] == [
        (f"r{first}", 1, "suicidal_ideation", "es"),
        (f"r{second}", 0, REVIEWED, "en"),
        (f"r{third}", 1, "suicidal_ideation", "es"),
    ]
    for row in rows:
        assert row.family == f"review-{row.id[1:]}" and row.split == split_of(row.family)
        assert (row.style, row.clarity, row.source, row.note) == (
            "reviewed",
            "reviewed",
            "review",
            "",
        )
    captured = capsys.readouterr()
    assert "3 labelled messages" in captured.out
    assert "privacy" in captured.err and "out of git" in captured.err
    # The evaluation measures them like any corpus row, ``reviewed`` as a kind of its own.
    reports = score(rows, cached_detector(ROOT / "config" / "crisis"))
    assert {REVIEWED, "suicidal_ideation"} <= set(next(iter(reports.values())).by_kind)


def test_since_keeps_only_later_labels(
    database_url: str, reviews: list[int], tmp_path: Path
) -> None:
    out = tmp_path / "labels.csv"
    assert main(["--out", str(out), "--database-url", database_url, "--since", "2026-12-04"]) == 0
    assert read_corpus(out) == []
    assert main(["--out", str(out), "--database-url", database_url, "--since", "2026-12-03"]) == 0
    assert len(read_corpus(out)) == 3
    assert main(["--out", str(out), "--database-url", database_url, "--since", "ayer"]) == 2


def test_the_module_runs_from_the_command_line(
    database_url: str, reviews: list[int], tmp_path: Path
) -> None:
    out = tmp_path / "labels.csv"
    command = [sys.executable, "-m", "bot.escalation.export-labels"]
    done = subprocess.run(
        [*command, "--out", str(out), "--database-url", database_url],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert len(read_corpus(out)) == 3 and "privacy" in done.stderr
