"""Train the crisis detector's model from the labelled corpus.

    python -m tools.train [--corpus PATH] [--config DIR] [--check] [--search]

Writes ``config/crisis/model.json`` (trained on the train split, thresholds chosen on the
dev split; see ``tools.detection.training``). ``--check`` writes nothing and exits
1 if the committed model differs from what training gives now (data changed without
retraining, or the other way round). ``--search`` prints dev figures for a grid of
regularisation strengths, the only tuning the model has. Needs ``pip install -e '.[train]'``
(scikit-learn); the service itself does not.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tools.detection.training import train, write_model

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT / "tests" / "data" / "crisis" / "corpus.csv"
DEFAULT_CONFIG = ROOT / "config" / "crisis"
#: Largest difference allowed between a committed weight and a retrained one. The same
#: library versions on the same CPU give identical files; another CPU (its BLAS kernels sum
#: in another order) moves the solver's stopping point a little: up to 1.5e-3 on one weight
#: was measured on an AMD EPYC host for the model trained elsewhere (4 Dec 2026). A change of
#: data or features moves weights by far more, and the data fingerprint is checked as well.
TOLERANCE = 5e-3


def differences(committed: dict[str, Any], fresh: dict[str, Any]) -> list[str]:
    """What differs between two model files, beyond ``TOLERANCE`` for numbers."""
    found: list[str] = []

    def walk(a: object, b: object, where: str) -> None:
        if len(found) > 20:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b)):
                if where == "meta" and key == "versions":
                    continue
                walk(a.get(key, 0.0), b.get(key, 0.0), f"{where}.{key}" if where else key)
        elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for index, (x, y) in enumerate(zip(a, b, strict=True)):
                walk(x, y, f"{where}[{index}]")
        elif isinstance(a, float | int) and isinstance(b, float | int):
            if abs(float(a) - float(b)) > TOLERANCE:
                found.append(f"{where}: {a} != {b}")
        elif a != b:
            found.append(f"{where}: {a!r} != {b!r}")

    walk(committed, fresh, "")
    return found


def _search(corpus: Path, config: Path) -> None:
    from bot.escalation.detection.model import model_from_json
    from tools.detection.evaluation import score_rows

    for risk_c in (0.5, 1.0, 2.0, 4.0, 8.0, 16.0):
        model = model_from_json(train(corpus, config, risk_c=risk_c))
        report = score_rows(corpus, config, model, split="dev")
        print(f"C={risk_c:<5} dev: {report.summary()}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.train", description=__doc__)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--check", action="store_true", help="compare with the committed model")
    parser.add_argument("--search", action="store_true", help="dev figures for several C")
    args = parser.parse_args(argv)
    if args.search:
        _search(args.corpus, args.config)
        return 0
    model = train(args.corpus, args.config)
    if args.check:
        path = args.config / "model.json"
        committed = json.loads(path.read_text(encoding="utf-8"))
        found = differences(committed, model)
        for line in found:
            print(f"differs: {line}", file=sys.stderr)
        print("model.json matches the data" if not found else f"{path} is out of date")
        return 1 if found else 0
    path = write_model(model, args.config)
    thresholds = model["thresholds"]
    print(
        f"wrote {path} ({path.stat().st_size // 1024} KiB): "
        f"{model['meta']['rows']['train']} train rows, thresholds {thresholds}, "
        f"data sha256 {model['data_sha256'][:12]}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
