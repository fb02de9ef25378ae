"""The committed model agrees with the data it claims to be trained on, and loads safely."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.escalation.detection.corpus import fingerprint
from bot.escalation.detection.model import MODEL_FILE, ModelError, load_model, model_from_json
from tools.detection.training import choose_thresholds, source_files, train
from tools.train import DEFAULT_CORPUS, differences, main

ROOT = Path(__file__).resolve().parents[3]
CONFIG = ROOT / "config" / "crisis"


def committed() -> dict:
    return json.loads((CONFIG / MODEL_FILE).read_text(encoding="utf-8"))


def test_the_model_was_trained_on_the_current_data() -> None:
    """Editing the corpus, the word classes or the lexicon requires retraining:
    python -m tools.train."""
    assert committed()["data_sha256"] == fingerprint(source_files(DEFAULT_CORPUS, CONFIG))


def test_training_regenerates_the_committed_model() -> None:
    assert differences(committed(), train(DEFAULT_CORPUS, CONFIG)) == []


def test_check_mode_reports_a_stale_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "crisis"
    config.mkdir()
    for path in CONFIG.iterdir():
        (config / path.name).write_bytes(path.read_bytes())
    assert main(["--check", "--config", str(config)]) == 0
    stale = committed()
    stale["risk"]["bias"] += 0.5
    (config / MODEL_FILE).write_text(json.dumps(stale), encoding="utf-8")
    assert main(["--check", "--config", str(config)]) == 1
    assert "risk.bias" in capsys.readouterr().err


def test_differences_ignore_library_versions_but_not_weights() -> None:
    a = {"meta": {"versions": {"numpy": "1"}}, "w": [1.0, 2.0], "t": "x"}
    b = {"meta": {"versions": {"numpy": "2"}}, "w": [1.0, 2.00001], "t": "x"}
    assert differences(a, b) == []
    assert differences(a, {**b, "w": [1.0, 2.1]}) == ["w[1]: 2.0 != 2.1"]
    assert differences(a, {**b, "t": "y"}) == ["t: 'x' != 'y'"]


def test_a_model_for_other_features_is_refused(tmp_path: Path) -> None:
    data = committed()
    data["feature_version"] = -1
    with pytest.raises(ModelError, match="other features"):
        model_from_json(data)
    (tmp_path / MODEL_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match=MODEL_FILE):
        load_model(tmp_path)
    with pytest.raises(ModelError, match=MODEL_FILE):
        load_model(tmp_path / "missing")


def test_thresholds_are_ordered() -> None:
    thresholds = load_model(CONFIG).thresholds
    assert 0 < thresholds.unrecognised <= thresholds.unsure <= thresholds.crisis < 1


def test_threshold_choice_meets_its_targets_on_the_scores_it_was_given() -> None:
    from tools.detection.training import Targets

    risk = [0.05, 0.3, 0.6, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99, 0.999]
    safe = [0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.28, 0.6, 0.7, 0.96]
    chosen = choose_thresholds(
        risk, safe, Targets(recall=0.9, crisis_false_alarms=0.1, unrecognised_asks=0.3)
    )
    assert sum(s >= chosen["unsure"] for s in risk) >= 9  # recall 0.9
    assert sum(s >= chosen["crisis"] for s in safe) <= 1  # false alarms 0.1
    assert sum(s >= chosen["unrecognised"] for s in safe) <= 3  # asked 0.3
    assert chosen["unrecognised"] <= chosen["unsure"] <= chosen["crisis"]


def test_when_targets_conflict_recall_wins() -> None:
    from tools.detection.training import Targets

    risk = [0.1, 0.9, 0.95, 0.99]
    safe = [0.2, 0.3, 0.4, 0.5]
    chosen = choose_thresholds(risk, safe, Targets(recall=1.0, unrecognised_asks=0.0))
    assert chosen["unsure"] == 0.1  # every risk message asked, at the cost of asking more
    assert chosen["unrecognised"] == 0.1
