"""Training the detector's model from the labelled corpus (needs the ``train`` extra).

Reproducible: the same corpus, word classes, lexicon and library versions give the same
``model.json`` (liblinear and L-BFGS are deterministic; weights are rounded to 6 decimals).
The file records the SHA-256 of everything it was built from, so a test can tell when the
committed model no longer matches the data.

The procedure, and what is tuned on what:

1. Features for every row (``features.vector``, the same code as at run time).
2. The risk head is fitted on the **train** split; the category head on the train split's
   risk rows, without the character n-grams (as good on dev, a third of the size).
3. The thresholds are chosen on the **dev** split's scores, by the targets in ``Targets``.
4. The **test** split is not read here at all; ``python -m tools.evaluate``
   reports it.

The regularisation strengths below were chosen by comparing dev figures
(``python -m tools.train --search``); see docs/detection.md.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.escalation.detection.concepts import CONCEPTS_FILE, load_concepts
from bot.escalation.detection.corpus import RISK_CATEGORIES, Row, fingerprint, read_corpus
from bot.escalation.detection.features import FEATURE_VERSION, HASH_BITS, analyse, vector
from bot.escalation.detection.lexicon import load_lexicon
from bot.escalation.detection.lexicon_file import LEXICON_LANGUAGES
from bot.escalation.detection.model import MODEL_FILE

RISK_C = 16.0
CATEGORY_C = 16.0
DECIMALS = 6


@dataclass(frozen=True, slots=True)
class Targets:
    """What the thresholds aim for on the dev split.

    ``recall``: share of risk messages answered with a crisis reply or the check question.
    ``crisis_false_alarms``: share of no-risk messages given a crisis reply.
    ``unrecognised_asks``: share of no-risk messages that would get the check question if
    typed where an answer was expected (the most it can cost).
    """

    recall: float = 0.96
    crisis_false_alarms: float = 0.02
    unrecognised_asks: float = 0.15


def source_files(corpus: Path, config_dir: Path) -> list[Path]:
    """Every file the model depends on, in a fixed order (their hash goes in the model)."""
    lexicons = [config_dir / f"{language}.yaml" for language in LEXICON_LANGUAGES]
    return [corpus, config_dir / CONCEPTS_FILE, *lexicons]


def featurise(
    rows: Sequence[Row], config_dir: Path, *, characters: bool = True
) -> list[dict[int, float]]:
    tagger, lexicon = load_concepts(config_dir), load_lexicon(config_dir)
    return [
        vector(analyse(row.text, tagger, lexicon), row.text, characters=characters) for row in rows
    ]


def _matrix(vectors: Sequence[dict[int, float]]) -> Any:
    from scipy.sparse import csr_matrix

    indptr, indices, values = [0], [], []
    for x in vectors:
        for slot in sorted(x):
            indices.append(slot)
            values.append(x[slot])
        indptr.append(len(indices))
    return csr_matrix((values, indices, indptr), shape=(len(vectors), 1 << HASH_BITS))


def _fit_risk(vectors: Sequence[dict[int, float]], labels: Sequence[int], c: float) -> Any:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, solver="liblinear", random_state=0, max_iter=1000)
    return model.fit(_matrix(vectors), labels)


def _fit_category(vectors: Sequence[dict[int, float]], labels: Sequence[str], c: float) -> Any:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, solver="lbfgs", max_iter=5000)
    return model.fit(_matrix(vectors), labels)


def _highest_with(scores: Sequence[float], share: float) -> float:
    """The highest threshold t such that at least ``share`` of ``scores`` are >= t."""
    ordered = sorted(scores, reverse=True)
    if not ordered:
        return 0.5
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


def _lowest_with_at_most(scores: Sequence[float], share: float) -> float:
    """The lowest threshold t such that at most ``share`` of ``scores`` are >= t."""
    ordered = sorted(scores, reverse=True)
    allowed = int(share * len(ordered))
    if allowed >= len(ordered):
        return 0.0
    return min(1.0, ordered[allowed] + 1e-6)


def choose_thresholds(
    risk_scores: Sequence[float], safe_scores: Sequence[float], targets: Targets
) -> dict[str, float]:
    crisis = max(0.5, _lowest_with_at_most(safe_scores, targets.crisis_false_alarms))
    unsure = min(crisis, _highest_with(risk_scores, targets.recall))
    unrecognised = min(unsure, _lowest_with_at_most(safe_scores, targets.unrecognised_asks))
    return {
        "crisis": round(crisis, DECIMALS),
        "unsure": round(unsure, DECIMALS),
        "unrecognised": round(unrecognised, DECIMALS),
    }


def _sparse(weights: Any) -> dict[str, float]:
    return {
        str(slot): round(float(value), DECIMALS)
        for slot, value in enumerate(weights)
        if round(float(value), DECIMALS) != 0.0
    }


def train(
    corpus: Path,
    config_dir: Path,
    *,
    risk_c: float = RISK_C,
    category_c: float = CATEGORY_C,
    targets: Targets | None = None,
) -> dict[str, Any]:
    """The model file's content, trained on the train split, thresholds from dev."""
    import numpy
    import scipy
    import sklearn

    targets = targets or Targets()
    rows = read_corpus(corpus)
    vectors = featurise(rows, config_dir)
    train_idx = [i for i, row in enumerate(rows) if row.split == "train"]
    dev_idx = [i for i, row in enumerate(rows) if row.split == "dev"]
    risk = _fit_risk([vectors[i] for i in train_idx], [rows[i].label for i in train_idx], risk_c)
    risk_rows = [i for i in train_idx if rows[i].is_risk]
    plain = featurise([rows[i] for i in risk_rows], config_dir, characters=False)
    category = _fit_category(plain, [rows[i].category for i in risk_rows], category_c)
    dev_scores = risk.predict_proba(_matrix([vectors[i] for i in dev_idx]))[:, 1]
    thresholds = choose_thresholds(
        [float(s) for i, s in zip(dev_idx, dev_scores, strict=True) if rows[i].is_risk],
        [float(s) for i, s in zip(dev_idx, dev_scores, strict=True) if not rows[i].is_risk],
        targets,
    )
    classes = [str(name) for name in category.classes_]
    unknown = set(classes) - set(RISK_CATEGORIES)
    if unknown:
        raise ValueError(f"unexpected categories {sorted(unknown)}")
    coef = category.coef_
    category_weights: dict[str, list[float]] = {}
    for slot in sorted(set(coef.nonzero()[1].tolist())):
        column = [round(float(coef[k, slot]), DECIMALS) for k in range(len(classes))]
        if any(column):
            category_weights[str(slot)] = column
    return {
        "feature_version": FEATURE_VERSION,
        "hash_bits": HASH_BITS,
        "data_sha256": fingerprint(source_files(corpus, config_dir)),
        "thresholds": thresholds,
        "targets": {
            "recall": targets.recall,
            "crisis_false_alarms": targets.crisis_false_alarms,
            "unrecognised_asks": targets.unrecognised_asks,
        },
        "meta": {
            "rows": {"train": len(train_idx), "dev": len(dev_idx)},
            "risk_c": risk_c,
            "category_c": category_c,
            "versions": {
                "scikit-learn": sklearn.__version__,
                "numpy": numpy.__version__,
                "scipy": scipy.__version__,
            },
        },
        "risk": {
            "bias": round(float(risk.intercept_[0]), DECIMALS),
            "weights": _sparse(risk.coef_[0]),
        },
        "category": {
            "classes": classes,
            "bias": [round(float(b), DECIMALS) for b in category.intercept_],
            "weights": category_weights,
        },
    }


def write_model(model: dict[str, Any], config_dir: Path) -> Path:
    path = config_dir / MODEL_FILE
    path.write_text(json.dumps(model, sort_keys=True, separators=(",", ":")) + "\n", "utf-8")
    return path
