"""Crisis detection measured on the labelled set tests/data/crisis_labelled.csv."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bot.escalation.detection import load_lexicon
from bot.escalation.evaluate import (
    DEFAULT_CONFIG,
    DEFAULT_CSV,
    MAX_FALSE_ALARM_RATE,
    MIN_RECALL,
    Report,
    Row,
    evaluate,
    format_report,
    load_rows,
    main,
)


@pytest.fixture(scope="module")
def rows() -> list[Row]:
    return load_rows(DEFAULT_CSV)


@pytest.fixture(scope="module")
def report(rows: list[Row]) -> Report:
    return evaluate(rows, load_lexicon(DEFAULT_CONFIG))


def test_set_is_large_balanced_and_bilingual(rows: list[Row]) -> None:
    assert len(rows) >= 300
    positives = sum(row.label for row in rows)
    assert 0.4 <= positives / len(rows) <= 0.6
    assert Counter(row.language for row in rows).keys() == {"es", "en"}
    assert len({row.text for row in rows}) == len(rows), "duplicate texts"


def test_set_keeps_phrasings_that_were_unseen_when_written(rows: list[Row]) -> None:
    positives = [row for row in rows if row.label == 1]
    unseen = [row for row in positives if row.unseen]
    assert len(unseen) / len(positives) >= 0.15


def test_recall_and_false_alarm_rate(report: Report) -> None:
    summary = format_report(report)
    assert report.recall >= MIN_RECALL, summary
    assert report.false_alarm_rate <= MAX_FALSE_ALARM_RATE, summary


def test_evaluate_script_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert "recall:" in capsys.readouterr().out

    failing = tmp_path / "failing.csv"
    failing.write_text(
        "text,label,language,note\nquiero morir,1,es,x\nhola,0,es,x\nzzz,1,es,a miss\n",
        encoding="utf-8",
    )
    assert main(["--csv", str(failing)]) == 1
    out = capsys.readouterr().out
    assert "'zzz'" in out and "FAIL" in out


def test_load_rows_rejects_bad_labels(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label,language,note\nhola,yes,es,x\n", encoding="utf-8")
    with pytest.raises(ValueError, match="label"):
        load_rows(bad)
