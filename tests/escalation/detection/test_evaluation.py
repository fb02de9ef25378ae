"""The detector measured on the test split (never used for tuning): the suite's gate."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.escalation.detection.corpus import Row, read_corpus
from bot.escalation.detection.detector import Assessment, Detector, Outcome, load_detector
from tools.detection.evaluation import (
    MAX_ASKED,
    MAX_CRISIS_FALSE_ALARMS,
    MIN_RECALL,
    Report,
    response,
    score,
)
from tools.evaluate import DEFAULT_CONFIG, DEFAULT_CORPUS, main


@pytest.fixture(scope="module")
def detector() -> Detector:
    return load_detector(DEFAULT_CONFIG)


@pytest.fixture(scope="module")
def test_reports(detector: Detector) -> dict[str, Report]:
    rows = [row for row in read_corpus(DEFAULT_CORPUS) if row.split == "test"]
    return score(rows, detector)


@pytest.mark.parametrize("context", ["questionnaire", "anywhere"])
def test_the_test_split_meets_the_targets(test_reports: dict[str, Report], context: str) -> None:
    overall = test_reports[context].overall
    summary = test_reports[context].summary()
    assert overall.recall >= MIN_RECALL, summary
    assert overall.false_alarm_rate <= MAX_CRISIS_FALSE_ALARMS, summary
    assert overall.asked_rate <= MAX_ASKED, summary


def test_every_risk_kind_is_mostly_caught(test_reports: dict[str, Report]) -> None:
    """No kind of risk message is left behind by a good overall figure."""
    report = test_reports["questionnaire"]
    weak = {
        kind: round(tally.recall, 2)
        for kind, tally in report.by_kind.items()
        if tally.risk and tally.recall < 0.85
    }
    assert not weak


def _assessment(outcome: Outcome, ask: bool) -> Assessment:
    return Assessment(outcome, "suicidal_ideation", 0.5, "", "model", ask)


@pytest.mark.parametrize(
    ("outcome", "ask", "questionnaire", "anywhere"),
    [
        (Outcome.CRISIS, True, "crisis", "crisis"),
        (Outcome.UNSURE, True, "ask", "ask"),
        (Outcome.NONE, True, "ask", "none"),
        (Outcome.NONE, False, "none", "none"),
    ],
)
def test_response_by_context(
    outcome: Outcome, ask: bool, questionnaire: str, anywhere: str
) -> None:
    assert response(_assessment(outcome, ask), "questionnaire") == questionnaire
    assert response(_assessment(outcome, ask), "anywhere") == anywhere


def test_the_command_prints_figures_by_kind_and_language(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "test split" in out and "by kind:" in out and "by language:" in out
    assert "third_party_emergency" in out and "qu-es" in out
    assert "independent set" in out
    assert "meets the targets" in out


def test_the_command_fails_when_a_split_misses_the_targets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header = "id,family,split,text,label,category,language,style,clarity,source,note\n"
    corpus = tmp_path / "corpus.csv"
    corpus.write_text(
        header
        + "m1,f1,test,me gusta el pan con palta,1,suicidal_ideation,es,,,w1,\n"
        + "m2,f2,test,hola,0,everyday,es,,,w1,\n",
        encoding="utf-8",
    )
    assert main(["--corpus", str(corpus), "--external", str(tmp_path / "none.csv")]) == 1
    assert "MISSES the targets" in capsys.readouterr().out


def test_rows_are_scored_once_per_context(detector: Detector) -> None:
    rows = [
        Row("1", "f", "test", "me quiero matar", 1, "suicidal_intent", "es", "", "", "w", ""),
        Row("2", "g", "test", "hola", 0, "everyday", "es", "", "", "w", ""),
    ]
    reports = score(rows, detector)
    assert reports["anywhere"].overall.risk == 1 and reports["anywhere"].overall.safe == 1
    assert len(reports["questionnaire"].timings_us) == 2
