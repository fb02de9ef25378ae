"""Crisis-detection cost (figures, not a test): time per message and memory of the detector.

``make bench`` runs it; alone: ``.venv/bin/python bench/detection.py [--passes N]``.

In a fresh process it:

1. loads the detector from ``config/crisis`` and reports the memory that loading allocated
   (``tracemalloc``: Python objects, the weights included); and, in a second fresh process
   without tracemalloc, the resident set the loaded detector keeps (after garbage
   collection) and the peak while the model file is parsed;
2. times ``Detector.assess`` on every message of the labelled corpus, ``--passes`` times
   (no result cache: every call does the whole work), and prints p50, p99 and max;
3. times, on the same messages in the same run, the curated lexicon alone (the previous
   detector) and the normaliser alone: the floor the detector is built on.

Targets (issue 10): p99 <= 5 ms per message, the loaded detector <= 50 MB.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CONFIG = ROOT / "config" / "crisis"
CORPUS = ROOT / "tests" / "data" / "crisis" / "corpus.csv"


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _resident() -> None:
    """In a fresh process: what the loaded detector keeps resident, and the peak."""
    import bot.escalation.detection as detection

    gc.collect()
    before, peak_before = _rss_mb(), _peak_rss_mb()
    detector = detection.load_detector(CONFIG)
    gc.collect()
    print(
        f"detector resident set: +{_rss_mb() - before:.1f} MiB kept after loading, "
        f"peak +{max(0.0, _peak_rss_mb() - peak_before):.1f} MiB while parsing   "
        "(target <= 50 MB)"
    )
    del detector


def _time(label: str, run: Callable[[str], object], texts: Sequence[str], passes: int) -> None:
    timings: list[float] = []
    for _ in range(passes):
        for text in texts:
            started = time.perf_counter()
            run(text)
            timings.append((time.perf_counter() - started) * 1e6)
    q = statistics.quantiles(timings, n=100, method="inclusive")
    print(
        f"{label:<34} p50 {q[49]:7.0f} µs   p99 {q[98]:7.0f} µs   max {max(timings):7.0f} µs"
        f"   ({len(timings)} calls)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--resident", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.resident:
        _resident()
        return 0
    subprocess.run([sys.executable, __file__, "--resident"], check=True)

    from bot.escalation.detection.corpus import read_corpus

    texts = [row.text for row in read_corpus(CORPUS)]
    gc.collect()
    tracemalloc.start()
    started = time.perf_counter()
    from bot.escalation.detection import load_detector

    detector = load_detector(CONFIG)
    load_s = time.perf_counter() - started
    gc.collect()
    traced, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"detector load: {load_s:.2f} s")
    print(f"detector memory: {traced / 2**20:.1f} MiB allocated by loading (tracemalloc)")

    from bot.escalation.detection.lexicon_match import detect
    from bot.escalation.detection.normalize import normalize

    _time("assess (the detector)", detector.assess, texts, args.passes)
    _time(
        "curated lexicon alone (before)", lambda t: detect(t, detector.lexicon), texts, args.passes
    )
    _time("normalisation alone (floor)", normalize, texts, args.passes)
    print("target: assess p99 <= 5 ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
