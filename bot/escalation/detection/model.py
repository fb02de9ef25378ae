"""The trained model: loading ``config/crisis/model.json`` and scoring a feature vector.

Two linear heads over the same hashed features (``features.vector``):

* **risk**: logistic regression, the probability that a message shows risk;
* **category**: multinomial logistic regression over the risk categories, trained on risk
  messages only, which tells what kind of risk (first person, third person, self-harm…).

Inference is plain Python over ``array('f')`` weights (a few hundred multiplications per
message; no NumPy or scikit-learn at run time). The file also records the thresholds chosen
on the development split, the hash of the data it was trained on and the feature version;
``python -m tools.train`` writes it.
"""

from __future__ import annotations

import json
import math
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.escalation.detection.features import FEATURE_VERSION, HASH_BITS

MODEL_FILE = "model.json"


class ModelError(ValueError):
    """The model file is missing, unreadable, or made for other features."""


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Risk probabilities at which the detector answers, chosen on the dev split.

    ``crisis``: crisis reply and escalation. ``unsure``: the check question, anywhere.
    ``unrecognised``: the check question for a message that is not an answer in the middle
    of a questionnaire (any non-trivial risk there is worth asking about).
    """

    crisis: float
    unsure: float
    unrecognised: float


@dataclass(frozen=True, slots=True)
class Model:
    risk_bias: float
    risk_weights: array[float]  # float32, one per hashed slot
    categories: tuple[str, ...]
    category_bias: tuple[float, ...]
    category_weights: tuple[array[float], ...]  # one float32 array per category
    thresholds: Thresholds
    data_sha256: str
    meta: dict[str, Any]

    def risk(self, x: dict[int, float]) -> float:
        weights = self.risk_weights
        z = self.risk_bias + sum(weights[slot] * value for slot, value in x.items())
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0

    def category(self, x: dict[int, float]) -> tuple[str, float]:
        """The most likely risk category and its probability among the categories."""
        scores = [
            bias + sum(weights[slot] * value for slot, value in x.items())
            for bias, weights in zip(self.category_bias, self.category_weights, strict=True)
        ]
        top = max(scores)
        exps = [math.exp(score - top) for score in scores]
        best = max(range(len(scores)), key=scores.__getitem__)
        return self.categories[best], exps[best] / sum(exps)


def _dense(sparse: dict[str, float]) -> array[float]:
    weights = array("f", bytes(4 << HASH_BITS))
    for slot, value in sparse.items():
        weights[int(slot)] = value
    return weights


def model_from_json(data: dict[str, Any]) -> Model:
    if data.get("feature_version") != FEATURE_VERSION or data.get("hash_bits") != HASH_BITS:
        raise ModelError(
            "the model was trained for other features "
            f"(version {data.get('feature_version')}, expected {FEATURE_VERSION}); "
            "run python -m tools.train"
        )
    categories = tuple(data["category"]["classes"])
    per_category: list[dict[str, float]] = [{} for _ in categories]
    for slot, values in data["category"]["weights"].items():
        for index, value in enumerate(values):
            if value:
                per_category[index][slot] = value
    thresholds = data["thresholds"]
    return Model(
        risk_bias=float(data["risk"]["bias"]),
        risk_weights=_dense(data["risk"]["weights"]),
        categories=categories,
        category_bias=tuple(float(b) for b in data["category"]["bias"]),
        category_weights=tuple(_dense(weights) for weights in per_category),
        thresholds=Thresholds(
            crisis=float(thresholds["crisis"]),
            unsure=float(thresholds["unsure"]),
            unrecognised=float(thresholds["unrecognised"]),
        ),
        data_sha256=str(data["data_sha256"]),
        meta=dict(data.get("meta", {})),
    )


def load_model(directory: Path) -> Model:
    path = Path(directory) / MODEL_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return model_from_json(data)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"{path}: {exc}") from exc
