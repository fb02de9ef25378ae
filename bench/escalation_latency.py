"""Escalation latency: a risky message at the webhook → the alert request at the Bot API.

``.venv/bin/python bench/escalation_latency.py`` (part of ``make bench``):

1. starts the real service (``python -m bot serve``, SQLite, the background loops
   in-process) with fake Telegram and Twilio APIs on 127.0.0.1 and an on-call roster of one
   (fictitious) psychologist;
2. sends probes: every ``--interval`` seconds a new person writes "me quiero matar" to the
   Telegram webhook; for each, the time from the start of the POST to the ``sendMessage``
   to the psychologist's chat quoting that message arriving at the fake Bot API;
3. does it twice: on an idle service, then with the channel benchmark's load (``bench/run.py``
   requests driven by wrk) running beside it;
4. prints p50/p99/max per phase and checks the target (p99 ≤ 1 s under load).

The probes are spaced 2.5 s apart because every alert, and every acknowledgement's
confirmation, goes to the same psychologist's chat, which Telegram allows about one message
a second. A thread plays that psychologist and acknowledges each case (``Psychologist``), so
open cases do not page the chat again. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from run import (  # noqa: E402  (bench/run.py: the channel benchmark's load)
    SECRET_KEY,
    TWILIO_TOKEN,
    WEBHOOK_SECRET,
    ensure_wrk,
    free_port,
    run_driver,
    start,
    stop,
    wait_ready,
    write_requests,
    wrk_command,
)

from tests.fakes.telegram_api import FakeTelegramApi  # noqa: E402
from tests.fakes.twilio_api import FakeTwilioApi  # noqa: E402

PSYCHOLOGIST_CHAT = 900_000_001  # fictitious
ROSTER = (
    "psychologists:\n"
    "  - id: bench\n"
    "    name: Bench (ficticia)\n"
    f"    contacts: {{telegram_chat_id: {PSYCHOLOGIST_CHAT}}}\n"
)


def probe_text(k: int) -> str:
    return f"ya no puedo más, me quiero matar (sonda {k})"


def alert_times(api: FakeTelegramApi) -> dict[int, float]:
    """Probe number → arrival time (monotonic) of the first alert quoting it."""
    found: dict[int, float] = {}
    for call in api.calls("sendMessage"):
        if str(call.params.get("chat_id")) != str(PSYCHOLOGIST_CHAT):
            continue
        text = str(call.params.get("text", ""))
        marker = text.find("(sonda ")
        if marker < 0:
            continue
        number = text[marker + 7 :].split(")", 1)[0]
        if number.isdigit():
            found.setdefault(int(number), call.time)
    return found


def post_update(client: httpx.Client, update: dict[str, object]) -> httpx.Response:
    """POST ``update`` to the service's Telegram webhook, as Telegram does."""
    return client.post(
        "/webhooks/telegram",
        content=json.dumps(update),
        headers={
            "Content-Type": "application/json",
            "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET,
        },
    )


class Psychologist(threading.Thread):
    """Plays the on-call psychologist: presses Acknowledge (through the Telegram webhook, as
    Telegram would deliver the press) on each new case's alert, as someone on call does.
    Without it every open imminent case pages the same chat again every 2 minutes, and at
    Telegram's one message a second per chat a new probe's alert then queues behind the
    re-pages of all the earlier ones: that measures the roster (one person paged by a
    hundred open cases), not the service."""

    def __init__(self, base: str, api: FakeTelegramApi) -> None:
        super().__init__(daemon=True)
        self.base = base
        self.api = api
        self.done = threading.Event()
        self.acknowledged = 0

    def run(self) -> None:
        pressed: set[str] = set()
        seen = 0
        chat = {"id": PSYCHOLOGIST_CHAT, "type": "private", "first_name": "Bench"}
        with httpx.Client(base_url=self.base, timeout=10) as client:
            while not self.done.wait(0.5):
                calls = self.api.calls("sendMessage")
                for call in calls[seen:]:
                    if str(call.params.get("chat_id")) != str(PSYCHOLOGIST_CHAT):
                        continue
                    markup = call.params.get("reply_markup") or {}
                    for row in markup.get("inline_keyboard", []):
                        for button in row:
                            data = str(button.get("callback_data", ""))
                            if data.startswith("case:ack:") and data not in pressed:
                                pressed.add(data)
                                self._press(client, chat, data, len(pressed))
                seen = len(calls)

    def _press(self, client: httpx.Client, chat: dict[str, object], data: str, n: int) -> None:
        sender = {"id": PSYCHOLOGIST_CHAT, "is_bot": False, "first_name": "Bench"}
        update = {
            "update_id": 9_000_000 + n,
            "callback_query": {
                "id": f"ack-{n}",
                "from": sender,
                "chat_instance": "-1",
                "data": data,
                "message": {"message_id": n, "date": int(time.time()), "chat": chat},
            },
        }
        response = post_update(client, update)
        if response.status_code == 200:
            self.acknowledged += 1


def run_probes(
    base: str, api: FakeTelegramApi, first: int, count: int, interval: float, timeout: float
) -> list[float | None]:
    """Send ``count`` probes; returns each one's latency in seconds (None: no alert)."""
    started: dict[int, float] = {}
    with httpx.Client(base_url=base, timeout=10) as client:
        for k in range(first, first + count):
            update = {
                "update_id": 5_000_000 + k,
                "message": {
                    "message_id": 1,
                    "date": int(time.time()),
                    "chat": {"id": 7_000_000 + k, "type": "private", "first_name": "Sonda"},
                    "from": {"id": 7_000_000 + k, "is_bot": False, "first_name": "Sonda"},
                    "text": probe_text(k),
                },
            }
            started[k] = time.monotonic()
            response = post_update(client, update)
            if response.status_code != 200:
                raise SystemExit(f"the webhook answered {response.status_code}")
            time.sleep(interval)
    # Arrival times are recorded by the fake API; reading them only now keeps this process
    # (which also serves the fake APIs) from competing with the service while it works.
    deadline = time.monotonic() + timeout
    arrived = alert_times(api)
    while time.monotonic() < deadline and not all(k in arrived for k in started):
        time.sleep(1)
        arrived = alert_times(api)
    return [arrived[k] - t if k in arrived else None for k, t in started.items()]


def figures(name: str, latencies: list[float | None]) -> tuple[str, float | None]:
    done = sorted(v for v in latencies if v is not None)
    missing = len(latencies) - len(done)
    if not done:
        return f"{name:<28} no alert arrived ({missing} missing)", None
    p50 = statistics.median(done)
    p99 = done[min(len(done) - 1, max(0, round(0.99 * len(done)) - 1))]
    line = (
        f"{name:<28}{len(done):>7}{p50 * 1000:>10.0f}{p99 * 1000:>10.0f}"
        f"{done[-1] * 1000:>10.0f}{missing:>9}"
    )
    return line, (p99 if missing == 0 else None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--probes", type=int, default=30, help="risky messages per phase")
    parser.add_argument(
        "--interval",
        type=float,
        default=2.5,
        help="seconds between probes (each probe's alert and acknowledgement confirmation go to "
        "one chat, which Telegram allows about one message a second)",
    )
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (load)")
    parser.add_argument("--people", type=int, default=16_000, help="people in the load")
    parser.add_argument(
        "--worker-process",
        action="store_true",
        help="run the background loops in a python -m bot worker process beside the server",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    ensure_wrk()
    work = Path(tempfile.mkdtemp(prefix="bot-bench-escalation-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    roster = work / "oncall.yaml"
    roster.write_text(ROSTER, encoding="utf-8")
    requests_file = work / "requests.tsv"
    # 12 messages a person: greeting, consent, language, menu and 8 PHQ-9 answers, so the
    # load itself never reaches item 9 (its alerts would queue with the probes' alerts).
    write_requests(requests_file, args.people, 12, base)
    load_seconds = int(args.probes * args.interval) + 10  # wrk takes whole seconds

    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "TWILIO_"))}
    rows: list[str] = []
    p99_loaded: float | None = None
    twilio_sid = "AC" + "0" * 32
    with FakeTelegramApi() as api, FakeTwilioApi(twilio_sid, TWILIO_TOKEN) as twilio:
        env.update(
            PTB_TIMEDELTA="true",
            DATABASE_URL=f"sqlite:///{work / 'bench.db'}",
            SECRET_KEY=SECRET_KEY,
            ENVIRONMENT="development",
            ONCALL_FILE=str(roster),
            TELEGRAM_BOT_TOKEN=api.token,
            TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
            TELEGRAM_API_BASE_URL=api.base_url,
            TWILIO_ACCOUNT_SID=twilio_sid,
            TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
            TWILIO_WHATSAPP_FROM="whatsapp:+14155238886",
            TWILIO_API_BASE_URL=twilio.url,
            PUBLIC_BASE_URL=base,
            RUN_WORKERS_IN_SERVER="false" if args.worker_process else "true",
            LOG_LEVEL="WARNING",
        )
        python = sys.executable
        subprocess.run([python, "-m", "bot", "migrate"], cwd=ROOT, env=env, check=True,
                       capture_output=True)  # fmt: skip
        server = start([python, "-m", "bot", "serve", "--port", str(port)], env, work / "serve.log")
        worker = None
        if args.worker_process:
            worker = start([python, "-m", "bot", "worker"], env, work / "worker.log")
        psychologist = Psychologist(base, api)
        try:
            wait_ready(f"{base}/readyz")
            psychologist.start()
            idle = run_probes(base, api, 0, args.probes, args.interval, timeout=30)
            rows.append(figures("idle service", idle)[0])
            load: dict[str, object] = {}

            def background() -> None:
                try:
                    command = wrk_command(base, requests_file, 0, load_seconds, args.connections)
                    figures_, *_ = run_driver(command, "WRK_JSON", server.pid)
                except subprocess.CalledProcessError as exc:
                    load["error"] = f"wrk failed: {exc.stderr or exc.stdout}"[:2000]
                    return
                load.update(figures_)

            loader = threading.Thread(target=background, daemon=True)
            loader.start()
            time.sleep(3)  # let the load build up
            loaded = run_probes(base, api, 1000, args.probes, args.interval, timeout=60)
            loader.join()
            line, p99_loaded = figures("with the channel load", loaded)
            rows.append(line)
        finally:
            psychologist.done.set()
            stop(server)
            if worker is not None:
                stop(worker)
    rate = load.get("requests", 0) / max(1e-9, load.get("duration_us", 1) / 1e6)  # type: ignore[operator]
    layout = "loops in a worker process" if args.worker_process else "loops in the server"
    print(
        f"escalation latency ({layout}): webhook POST of a risky message → alert sendMessage "
        f"at the fake Bot API; {args.probes} probes per phase, one every {args.interval:g} s"
    )
    print(f"{'phase':<28}{'alerts':>7}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}{'missing':>9}")
    for row in rows:
        print(row)
    if "error" in load:
        print(load["error"])
    print(
        f"background load: {rate:.0f} webhook requests/s (wrk -c{args.connections}); "
        f"cases acknowledged by the bench's psychologist: {psychologist.acknowledged}"
    )
    met = p99_loaded is not None and p99_loaded <= 1.0 and "error" not in load
    print(f"target (p99 <= 1 s under load, no alert missing): {'met' if met else 'NOT met'}")
    if args.keep:
        print(f"work folder kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
