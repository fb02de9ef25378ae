"""The cost of one conversation step, without the web server or any load.

``.venv/bin/python bench/step_cost.py [--people N]``: a fresh SQLite database in a
temporary folder, N WhatsApp people recorded through ``ConversationService.receive``; each
round records one message per person and times ``process_pending`` over all of them. The
first two rounds (consent, language) warm up; the third and fourth are timed, the fourth
under cProfile when ``--profile`` is given.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.db.migrate import upgrade  # noqa: E402
from bot.db.models import utcnow  # noqa: E402
from bot.flows.types import Inbound  # noqa: E402
from bot.runtime import build_runtime  # noqa: E402
from bot.settings import Settings  # noqa: E402

#: hola → consent (1 = yes) → language (1 = español) → menu (1 = PHQ-9) → answers.
TEXTS = ["hola", "1", "1", "1", "1"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--profile", action="store_true", help="print the top of a profile")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bot-step-"))
    os.environ["DATABASE_URL"] = f"sqlite:///{work / 'step.db'}"
    os.environ.setdefault("SECRET_KEY", "step-cost-secret-key-0123456789abcdef0123")
    settings = Settings()
    upgrade(settings.database_url)
    service = build_runtime(settings).conversations

    def record(round_: int) -> None:
        for person in range(args.people):
            service.receive(
                Inbound(
                    channel="whatsapp",
                    external_id=f"whatsapp:+5198{person:07d}",
                    provider_message_id=f"SM{person}-{round_}",
                    received_at=utcnow(),
                    text=TEXTS[round_],
                )
            )

    for round_ in range(len(TEXTS)):
        record(round_)
        profiler = cProfile.Profile() if args.profile and round_ == len(TEXTS) - 1 else None
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        steps = len(service.process_pending(args.people))
        if profiler is not None:
            profiler.disable()
        elapsed = time.perf_counter() - started
        if round_ >= 2:
            label = " (profiled)" if profiler is not None else ""
            print(
                f"round {round_ + 1}: {steps} steps, {elapsed / steps * 1000:.2f} ms a step{label}"
            )
        if profiler is not None:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
