"""Inbound webhook benchmark: the real service beside a bare FastAPI endpoint (the ceiling).

``make bench`` (or ``.venv/bin/python bench/run.py``) does, on this machine, in one run:

1. builds signed Twilio webhooks and Telegram updates (text and button presses) of many
   simulated people, each message once, interleaved across people;
2. serves ``bench/bare_app.py`` (same paths and uvicorn settings, no work) and drives it with
   wrk through ``bench/requests.lua``: the ceiling of this machine;
3. starts the real service, ``python -m bot serve`` (SQLite, one process, the background
   loops in-process: the default), with fake Telegram and Twilio APIs on 127.0.0.1 for its
   replies, and drives it with the same load generator and the same kind of requests
   and once more with the loops in one ``python -m bot worker`` process beside it, at
   saturation and at ``--rate`` (``--no-worker-process`` skips those runs);
4. runs the bare app and a fresh service once more at a fixed rate (``--rate``, 1,500 msg/s:
   the target) with ``bench/openloop.py``, an open-loop generator that charges every request
   from the moment it was due, so the p99 is the latency *at* that throughput;
5. prints inbound msg/s, p50/p90/p99 latency, the ratio to the ceiling, the CPU used by
   the server, by the load generator and by unrelated processes, the outcome of every
   request, and how many conversation steps had run.

Only 127.0.0.1 is ever contacted. wrk comes from Debian (installed when missing and root).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.telegram_api import FakeTelegramApi  # noqa: E402
from tests.fakes.twilio_api import FakeTwilioApi  # noqa: E402
from tests.fakes.twilio_signing import sign_twilio_request  # noqa: E402

WEBHOOK_SECRET = "bench_webhook_secret_0123456789"
TWILIO_TOKEN = "bench-twilio-auth-token-0123456789ab"
SECRET_KEY = "bench-secret-key-0123456789abcdef0123456789"
TICKS = os.sysconf("SC_CLK_TCK")


# --- the requests ----------------------------------------------------------------------------


def telegram_messages(person: int, count: int) -> list[dict[str, Any]]:
    """A person answering the PHQ-9 with the buttons (first a greeting)."""
    payloads = ["consent:yes", "lang:es", "menu:depression"]
    payloads += [f"ans:phq9_{n}:1" for n in range(1, 10)]
    chat = {"id": 700_000_000 + person, "type": "private", "first_name": "Bench"}
    sender = {"id": chat["id"], "is_bot": False, "first_name": "Bench", "language_code": "es"}
    updates: list[dict[str, Any]] = []
    for k in range(count):
        base = {"message_id": 10 + k, "date": 1_790_000_000 + k, "chat": chat, "from": sender}
        if k == 0:
            updates.append({"message": {**base, "text": "hola"}})
        else:
            query = {
                "id": f"{chat['id']}{k:04d}",
                "from": sender,
                "chat_instance": str(-chat["id"]),
                "data": payloads[(k - 1) % len(payloads)],
                "message": {**base, "text": "Pregunta"},
            }
            updates.append({"callback_query": query})
    return updates


def whatsapp_messages(person: int, count: int) -> list[dict[str, str]]:
    """A person answering by typing numbers (first a greeting)."""
    phone = f"+5198{person:07d}"
    forms = []
    for k in range(count):
        sid = "SM" + hashlib.md5(f"{person}:{k}".encode()).hexdigest()
        forms.append(
            {
                "SmsMessageSid": sid,
                "NumMedia": "0",
                "ProfileName": "Bench",
                "MessageType": "text",
                "SmsSid": sid,
                "WaId": phone[1:],
                "SmsStatus": "received",
                "Body": "hola" if k == 0 else "1",
                "To": "whatsapp:+14155238886",
                "NumSegments": "1",
                "ReferralNumMedia": "0",
                "MessageSid": sid,
                "AccountSid": "AC" + "0" * 32,
                "From": f"whatsapp:{phone}",
                "ApiVersion": "2010-04-01",
            }
        )
    return forms


def write_requests(path: Path, people: int, per_person: int, public_base_url: str) -> int:
    """One line per request (path, content type, auth header, value, body), interleaved so that
    consecutive requests come from different people; a person's k-th message follows their
    (k-1)-th by ``people`` requests. Half the people are on Telegram, half on WhatsApp."""
    whatsapp_url = f"{public_base_url}/webhooks/whatsapp"
    conversations: list[list[str]] = []
    update_id = 1_000_000
    for person in range(people):
        lines: list[str] = []
        if person % 2 == 0:
            for update in telegram_messages(person, per_person):
                update_id += 1
                body = json.dumps({"update_id": update_id, **update}, separators=(",", ":"))
                lines.append(
                    "\t".join(
                        (
                            "/webhooks/telegram",
                            "application/json",
                            "X-Telegram-Bot-Api-Secret-Token",
                            WEBHOOK_SECRET,
                            body,
                        )
                    )
                )
        else:
            for form in whatsapp_messages(person, per_person):
                signature = sign_twilio_request(TWILIO_TOKEN, whatsapp_url, form)
                lines.append(
                    "\t".join(
                        (
                            "/webhooks/whatsapp",
                            "application/x-www-form-urlencoded",
                            "X-Twilio-Signature",
                            signature,
                            urlencode(form),
                        )
                    )
                )
        conversations.append(lines)
    with path.open("w", encoding="utf-8") as out:
        for k in range(per_person):
            for lines in conversations:
                out.write(lines[k] + "\n")
    return people * per_person


# --- processes and measurements ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not become ready")


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=handle)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    statuses: dict[str, int]
    server_cpu: float  # % of one core
    load_cpu: float
    machine_cpu: float  # % of all cores
    other_cpu: float  # % of one core used by processes other than the server, wrk and us
    #: Requests a second sent whatever the server did (open loop); None: wrk at saturation.
    offered: float | None = None

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def run_driver(
    command: list[str], marker: str, server_pid: int
) -> tuple[dict[str, Any], float, float, float, float]:
    """Run a load generator (wrk or bench/openloop.py) to its end; its figures (the JSON on
    its ``marker`` line) and the CPU of the server, of the generator, of the machine and of
    unrelated processes during the run."""
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    before_self = resource.getrusage(resource.RUSAGE_SELF)
    server_before = cpu_seconds(server_pid)
    busy_before, total_before = machine_busy()
    started = time.monotonic()
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    wall = time.monotonic() - started
    busy_after, total_after = machine_busy()
    server_cpu = (cpu_seconds(server_pid) - server_before) / wall * 100
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    after_self = resource.getrusage(resource.RUSAGE_SELF)
    own = (
        (after_self.ru_utime - before_self.ru_utime) + (after_self.ru_stime - before_self.ru_stime)
    ) / wall  # this process: the fake Telegram and Twilio APIs
    driver_cpu = (
        (after_children.ru_utime - before_children.ru_utime)
        + (after_children.ru_stime - before_children.ru_stime)
    ) / wall
    machine = (busy_after - busy_before) / max(1, total_after - total_before) * 100
    match = re.search(rf"^{marker} (.*)$", output, re.MULTILINE)
    if match is None:
        raise SystemExit(f"{command[0]} gave no figures:\n{output}")
    cores = os.cpu_count() or 1
    other = max(0.0, machine * cores - server_cpu - driver_cpu * 100 - own * 100)
    return json.loads(match.group(1)), server_cpu, driver_cpu * 100, machine, other


def wrk_command(
    url: str, requests_file: Path, first: int, seconds: float, connections: int, threads: int = 1
) -> list[str]:
    """Closed loop: ``connections`` connections, each sending as soon as it is answered."""
    return [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s",
        "--timeout", "10s", "-s", str(ROOT / "bench" / "requests.lua"), url,
        "--", str(requests_file), str(first), str(threads),
    ]  # fmt: skip


def open_loop_command(
    url: str, requests_file: Path, first: int, seconds: float, rate: float
) -> list[str]:
    """Open loop: ``rate`` requests a second, whatever the server does (bench/openloop.py)."""
    port = url.rsplit(":", 1)[1]
    return [
        sys.executable, str(ROOT / "bench" / "openloop.py"), "--port", port,
        "--requests", str(requests_file), "--first", str(first), "--rate", f"{rate:g}",
        "--duration", f"{seconds:g}",
    ]  # fmt: skip


def measure(
    name: str,
    base: str,
    server_pid: int,
    requests_file: Path,
    args: argparse.Namespace,
    *,
    fixed_rate: bool = False,
) -> Result:
    """A warm-up on the first slice of requests, then the measured run on the next (never the
    same message): with wrk at saturation, or at ``--rate`` with the open-loop generator."""

    def command(first: int, seconds: float) -> list[str]:
        if fixed_rate:
            return open_loop_command(base, requests_file, first, seconds, args.rate)
        return wrk_command(base, requests_file, first, seconds, args.connections, args.threads)

    marker = "OPENLOOP_JSON" if fixed_rate else "WRK_JSON"
    run_driver(command(0, args.warmup), marker, server_pid)
    figures, server_cpu, driver_cpu, machine, other = run_driver(
        command(args.measure_offset, args.duration), marker, server_pid
    )
    return Result(
        name=name,
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        p50_ms=figures["p50_us"] / 1000,
        p90_ms=figures["p90_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        max_ms=figures["max_us"] / 1000,
        errors=figures["errors"] + figures["timeouts"],
        statuses=figures["statuses"],
        server_cpu=server_cpu,
        load_cpu=driver_cpu,
        machine_cpu=machine,
        other_cpu=other,
        offered=args.rate if fixed_rate else None,
    )


def scrape(base: str) -> dict[str, float]:
    text = httpx.get(f"{base}/metrics", timeout=10).text
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            samples[key] = float(value)
    return samples


def total(samples: dict[str, float], prefix: str) -> float:
    return sum(v for k, v in samples.items() if k.startswith(prefix))


# --- main ----------------------------------------------------------------------------------------


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing wrk from Debian…", flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
        found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is needed: apt-get install wrk")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20, help="measured seconds per target")
    parser.add_argument("--warmup", type=float, default=3, help="warm-up seconds per target")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument(
        "--rate",
        type=float,
        default=1500,
        help="also measure latency at this offered rate (open loop; 0: skip)",
    )
    parser.add_argument(
        "--people",
        type=int,
        default=16_000,
        help="simulated people (enough that no request repeats)",
    )
    parser.add_argument("--messages", type=int, default=12, help="messages per person")
    parser.add_argument(
        "--drain", type=float, default=30, help="seconds to wait for the inbox to empty"
    )
    parser.add_argument(
        "--profile",
        metavar="PY_SPY",
        help="profile the service during the measured run with this py-spy binary "
        "(collapsed stacks in the work folder; implies --keep)",
    )
    parser.add_argument(
        "--worker-process",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also measure the service with its loops in a python -m bot worker process "
        "(on by default)",
    )
    parser.add_argument(
        "--intake-only",
        action="store_true",
        help="also measure the service with no background loops at all (intake alone), "
        "at saturation and at --rate",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    ensure_wrk()

    work = Path(tempfile.mkdtemp(prefix="bot-bench-"))
    python = sys.executable
    service_port, bare_port = free_port(), free_port()
    service_base = f"http://127.0.0.1:{service_port}"
    requests_file = work / "requests.tsv"
    count = write_requests(requests_file, args.people, args.messages, service_base)
    # Warm-up takes the first 20 % of the messages, the measured run the rest.
    args.measure_offset = count // 5
    print(
        f"{count} webhook requests from {args.people} people "
        f"({args.people // 2} on Telegram, {args.people - args.people // 2} on WhatsApp); "
        f"wrk -t{args.threads} -c{args.connections}, {args.warmup:g} s warm-up + "
        f"{args.duration:g} s measured per target; {os.cpu_count()} cores",
        flush=True,
    )

    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "TWILIO_"))}
    env["PTB_TIMEDELTA"] = "true"
    results: list[Result] = []

    # 1. The ceiling.
    bare = start([python, "bench/bare_app.py", str(bare_port)], env, work / "bare.log")
    try:
        _wait_port(bare_port)
        bare_base = f"http://127.0.0.1:{bare_port}"
        results.append(measure("bare FastAPI (ceiling)", bare_base, bare.pid, requests_file, args))
        if args.rate:
            # The same app at the fixed rate: the floor of the open-loop generator's figures.
            results.append(
                measure(f"bare FastAPI at {args.rate:g}/s", bare_base, bare.pid, requests_file,
                        args, fixed_rate=True)
            )  # fmt: skip
    finally:
        stop(bare)

    # 2. The service: the loops in the server (the default), then in a worker process.
    account_sid = "AC" + "0" * 32
    twilio_fake = FakeTwilioApi(account_sid=account_sid, auth_token=TWILIO_TOKEN)
    runs: list[ServiceRun] = []
    with FakeTelegramApi() as telegram_api, twilio_fake as twilio_api:
        env.update(
            SECRET_KEY=SECRET_KEY,
            ENVIRONMENT="development",
            TELEGRAM_BOT_TOKEN=telegram_api.token,
            TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
            TELEGRAM_API_BASE_URL=telegram_api.base_url,
            TWILIO_ACCOUNT_SID=account_sid,
            TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
            TWILIO_WHATSAPP_FROM="whatsapp:+14155238886",
            TWILIO_API_BASE_URL=twilio_api.url,
            PUBLIC_BASE_URL=service_base,
            LOG_LEVEL="WARNING",
        )
        layouts = [("service, loops in-process", "in-server", False)]
        if args.rate:
            layouts.append((f"service at {args.rate:g}/s offered", "in-server", True))
        if args.worker_process:
            layouts.append(("service + worker process", "worker", False))
            if args.rate:
                layouts.append((f"service + worker at {args.rate:g}/s", "worker", True))
        if args.intake_only:
            layouts.append(("service, intake only", "none", False))
            if args.rate:
                layouts.append((f"intake only at {args.rate:g}/s", "none", True))
        for index, (name, loops, fixed_rate) in enumerate(layouts):
            marks = (telegram_api.mark(), twilio_api.mark())
            run_env = dict(
                env,
                DATABASE_URL=f"sqlite:///{work / f'bench{index}.db'}",
                RUN_WORKERS_IN_SERVER="true" if loops == "in-server" else "false",
                BENCH_LOOPS=loops,
            )
            run = measure_service(
                name, run_env, work, index, service_port, requests_file, args, fixed_rate
            )
            run.sent = _sent(telegram_api, marks[0]) | _sent(twilio_api, marks[1])
            runs.append(run)
    results.extend(run.result for run in runs)
    report(results, runs, args)
    if args.keep:
        print(f"work folder kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


@dataclass
class ServiceRun:
    result: Result
    after: dict[str, float]
    drained: float | None
    worker_cpu: float | None
    #: What reached the fake platform APIs (until the server stopped): "method status" → count.
    sent: dict[str, int] = field(default_factory=dict)


def _sent(api: FakeTelegramApi | FakeTwilioApi, since: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    for call in api.calls()[since:]:
        key = f"{call.method} {call.status}"
        counts[key] = counts.get(key, 0) + 1
    return counts


def measure_service(
    name: str,
    env: dict[str, str],
    work: Path,
    index: int,
    port: int,
    requests_file: Path,
    args: argparse.Namespace,
    fixed_rate: bool = False,
) -> ServiceRun:
    """Migrate a fresh SQLite database, start ``python -m bot serve`` (and, when the loops
    are not in the server, one ``python -m bot worker``), load it (at saturation, or at
    ``--rate`` when ``fixed_rate``), and stop it."""
    python = sys.executable
    base = f"http://127.0.0.1:{port}"
    subprocess.run([python, "-m", "bot", "migrate"], cwd=ROOT, env=env, check=True,
                   capture_output=True)  # fmt: skip
    server = start([python, "-m", "bot", "serve", "--port", str(port)], env,
                   work / f"serve{index}.log")  # fmt: skip
    worker = None
    if env["BENCH_LOOPS"] == "worker":
        worker = start([python, "-m", "bot", "worker"], env, work / f"worker{index}.log")
    try:
        wait_ready(f"{base}/readyz")
        profiler = None
        if args.profile:
            args.keep = True
            profiler = subprocess.Popen(
                [args.profile, "record", "--pid", str(server.pid), "--rate", "200",
                 "--format", "raw", "--output", str(work / f"profile{index}.txt"),
                 "--duration", str(int(args.warmup + args.duration))],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
        worker_before = cpu_seconds(worker.pid) if worker else 0.0
        started = time.monotonic()
        result = measure(name, base, server.pid, requests_file, args, fixed_rate=fixed_rate)
        worker_cpu = None
        if worker is not None:
            worker_cpu = (cpu_seconds(worker.pid) - worker_before) / (time.monotonic() - started)
            worker_cpu *= 100
            result.other_cpu = max(0.0, result.other_cpu - worker_cpu)
        if profiler is not None:
            profiler.wait(timeout=60)
        after = scrape(base)
        drained = _drain_time(base, limit=float(args.drain))
    finally:
        if worker is not None:
            stop(worker)
        stop(server)
    return ServiceRun(result, after, drained, worker_cpu)


def _wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"nothing listens on port {port}")


def _drain_time(base: str, limit: float) -> float | None:
    """Seconds until the inbox loop has run every recorded message (None: not within limit)."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if total(scrape(base), "bot_inbox_depth") == 0:
            return time.monotonic() - started
        time.sleep(1)
    return None


def report(results: list[Result], runs: list[ServiceRun], args: argparse.Namespace) -> None:
    ceiling = results[0]
    print()
    print(f"{'target':<28}{'msg/s':>8}{'p50 ms':>8}{'p90 ms':>8}{'p99 ms':>8}{'max ms':>8}"
          f"{'server CPU':>11}{'load CPU':>9}{'machine':>8}{'others':>7}")  # fmt: skip
    for r in results:
        print(
            f"{r.name:<28}{r.rate:>8.0f}{r.p50_ms:>8.1f}{r.p90_ms:>8.1f}{r.p99_ms:>8.1f}"
            f"{r.max_ms:>8.1f}{r.server_cpu:>10.0f}%{r.load_cpu:>8.0f}%{r.machine_cpu:>7.0f}%"
            f"{r.other_cpu:>6.0f}%"
        )
    print(
        "(CPU in % of one core; load = the load generator: wrk at saturation, "
        "bench/openloop.py at a fixed rate; machine in % of all cores; others = CPU of "
        "unrelated processes during the run, which the figures share the machine with)"
    )
    for run in runs:
        service = run.result
        print(f"\n{service.name}:")
        if service.offered is None:
            print(f"  ratio to the ceiling: {service.rate / ceiling.rate:.0%} of the msg/s")
        print(f"  HTTP statuses (measured run): {service.statuses}; "
              f"socket errors/timeouts: {service.errors}")  # fmt: skip
        if run.worker_cpu is not None:
            print(f"  the worker process used {run.worker_cpu:.0f}% of a core")
        outcomes: dict[str, int] = {}
        for key, value in run.after.items():
            if key.startswith("bot_messages_in_total"):
                outcome = key.split('outcome="')[1].rstrip('"}')
                outcomes[outcome] = outcomes.get(outcome, 0) + int(value)
        accepted = outcomes.get("accepted", 0)
        print(f"  server-side outcomes (warm-up + measured): {outcomes}")
        pending = total(run.after, "bot_inbox_depth")
        print(
            f"  conversation steps: {accepted - pending:.0f} of {accepted} recorded messages had "
            "run when the load stopped; "
            + (f"the rest {run.drained:.0f} s later" if run.drained is not None
               else f"not all within {args.drain:g} s after")
        )  # fmt: skip
        print(f"  requests at the fake platform APIs (until the server stopped): {run.sent}")
        print(f"  {_verdict(service)}")


def _verdict(run: Result) -> str:
    """Issue 3's targets: >= 1,500 msg/s, and p99 <= 50 ms at that rate."""
    clean = run.errors == 0 and set(run.statuses) == {"200"}
    if run.offered is None:
        met = run.rate >= 1500 and clean
        return (
            f"throughput target (>= 1500 msg/s): {'met' if met else 'NOT met'}; p99 at "
            f"saturation: {run.p99_ms:.1f} ms (wrk's {run.load_cpu:.0f}% CPU; closed loop: "
            "its latency grows with the number of connections)"
        )
    # (a request not answered within the generator's timeout counts as an error)
    met = run.offered >= 1500 and clean and run.p99_ms <= 50
    return (
        f"latency target (p99 <= 50 ms at >= 1500 msg/s offered, every request answered 200): "
        f"{'met' if met else 'NOT met'} (p99 {run.p99_ms:.1f} ms at {run.offered:g}/s)"
    )


if __name__ == "__main__":
    raise SystemExit(main())
