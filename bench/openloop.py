"""Open-loop load generator: webhook requests at a fixed rate, latency from the scheduled time.

wrk (the saturation runs in ``bench/run.py``) is a closed loop: each connection sends its next
request only when the previous one is answered, so it measures the most the server can take,
and its latency then mostly reflects how many connections wait (Little's law: 32 connections
at 2,000 msg/s wait 16 ms on average, whatever the server does). The target of issue 3 is a
latency *at* a throughput (≥ 1,500 msg/s with p99 ≤ 50 ms), which this measures the way wrk2
does: request *i* is due at ``start + i / rate`` whether or not earlier ones were answered,
and its latency counts from that moment, so a stalled server is charged for every request it
kept waiting (no "coordinated omission").

A request goes out on an idle keep-alive connection; when none is idle a new one is opened,
up to ``--connections`` (Telegram opens up to 40 per bot; Twilio as many as it needs), and
beyond that it waits in line here, its clock already running.

``python bench/openloop.py --port P --requests FILE --rate 1500 --duration 20`` prints one
line ``OPENLOOP_JSON {...}`` with the figures (``bench/run.py`` reads it). The requests file
is the one ``bench/run.py`` writes (one request per line, tab-separated).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import time
from dataclasses import dataclass, field

try:
    import uvloop
except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
    uvloop = None  # type: ignore[assignment]


def load_requests(path: str, first: int, count: int) -> list[bytes]:
    """Raw HTTP/1.1 requests from lines ``path, content type, header, value, body``."""
    requests: list[bytes] = []
    with open(path, encoding="utf-8") as lines:
        for index, line in enumerate(lines):
            if index < first:
                continue
            if len(requests) >= count:
                break
            target, content_type, header, value, body = line.rstrip("\n").split("\t", 4)
            payload = body.encode()
            head = (
                f"POST {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
                f"{header}: {value}\r\nContent-Length: {len(payload)}\r\n\r\n"
            )
            requests.append(head.encode() + payload)
    return requests


@dataclass
class Figures:
    scheduled: int = 0
    latencies: list[float] = field(default_factory=list)
    statuses: collections.Counter[str] = field(default_factory=collections.Counter)
    errors: int = 0
    connections: int = 0
    most_waiting: int = 0


class Connection(asyncio.Protocol):
    """One keep-alive connection: one request at a time, the response read by its length."""

    def __init__(self, generator: Generator) -> None:
        self.generator = generator
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.due = 0.0
        self.busy = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, request: bytes, due: float) -> None:
        assert self.transport is not None
        self.busy = True
        self.due = due
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = self.buffer[:end].decode("latin-1")
        length = 0
        for line in head.split("\r\n")[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        if len(self.buffer) < end + 4 + length:
            return
        self.buffer = self.buffer[end + 4 + length :]
        status = head.split(" ", 2)[1]
        self.busy = False
        self.generator.answered(self, status, time.perf_counter() - self.due)

    def connection_lost(self, exc: Exception | None) -> None:
        self.generator.lost(self)


class Generator:
    def __init__(self, host: str, port: int, max_connections: int, timeout: float) -> None:
        self.host = host
        self.port = port
        self.max_connections = max_connections
        self.timeout = timeout
        self.idle: list[Connection] = []
        self.open = 0
        self.opening = 0
        self.waiting: collections.deque[tuple[bytes, float]] = collections.deque()
        self.in_flight = 0
        self.figures = Figures()
        self.settled = asyncio.Event()

    async def run(self, requests: list[bytes], rate: float, duration: float) -> Figures:
        loop = asyncio.get_running_loop()
        total = min(len(requests), int(rate * duration))
        start = time.perf_counter() + 0.05
        for index in range(total):
            due = start + index / rate
            delay = due - time.perf_counter()
            if delay > 0.0005:
                await asyncio.sleep(delay)
            self.figures.scheduled += 1
            self.in_flight += 1
            self.settled.clear()  # (set whenever nothing was in flight)
            self.dispatch(requests[index], due, loop)
        if self.in_flight:
            try:
                await asyncio.wait_for(self.settled.wait(), self.timeout)
            except TimeoutError:
                self.figures.errors += self.in_flight  # never answered
        return self.figures

    def dispatch(self, request: bytes, due: float, loop: asyncio.AbstractEventLoop) -> None:
        if self.idle:
            self.idle.pop().send(request, due)
            return
        self.waiting.append((request, due))
        self.figures.most_waiting = max(self.figures.most_waiting, len(self.waiting))
        if self.open + self.opening < self.max_connections:
            self.opening += 1
            loop.create_task(self.connect())

    async def connect(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            _, protocol = await loop.create_connection(
                lambda: Connection(self), self.host, self.port
            )
        except OSError:
            self.opening -= 1
            self.figures.errors += 1
            return
        self.opening -= 1
        self.open += 1
        self.figures.connections = max(self.figures.connections, self.open)
        self.next_for(protocol)

    def next_for(self, connection: Connection) -> None:
        if self.waiting:
            request, due = self.waiting.popleft()
            connection.send(request, due)
        else:
            self.idle.append(connection)

    def answered(self, connection: Connection, status: str, latency: float) -> None:
        self.figures.latencies.append(latency)
        self.figures.statuses[status] += 1
        self.finish_one()
        self.next_for(connection)

    def lost(self, connection: Connection) -> None:
        self.open -= 1
        if connection in self.idle:
            self.idle.remove(connection)
        if connection.busy:
            self.figures.errors += 1
            self.finish_one()

    def finish_one(self) -> None:
        self.in_flight -= 1
        if self.in_flight == 0:
            self.settled.set()


def percentile(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--requests", required=True, help="requests file (bench/run.py)")
    parser.add_argument("--first", type=int, default=0, help="index of the first request")
    parser.add_argument("--rate", type=float, default=1500, help="requests per second")
    parser.add_argument("--duration", type=float, default=20, help="seconds of requests")
    parser.add_argument("--connections", type=int, default=64, help="most connections open")
    parser.add_argument("--timeout", type=float, default=10, help="wait for the last answers")
    args = parser.parse_args()
    requests = load_requests(args.requests, args.first, int(args.rate * args.duration))
    if uvloop is not None:
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    generator = Generator(args.host, args.port, args.connections, args.timeout)
    cpu_before, wall_before = time.process_time(), time.perf_counter()
    figures = asyncio.run(generator.run(requests, args.rate, args.duration))
    wall = time.perf_counter() - wall_before
    ordered = sorted(figures.latencies)
    report = {
        "requests": len(ordered),
        "scheduled": figures.scheduled,
        "duration_us": wall * 1e6,
        "offered_rate": args.rate,
        "p50_us": percentile(ordered, 0.50) * 1e6,
        "p90_us": percentile(ordered, 0.90) * 1e6,
        "p99_us": percentile(ordered, 0.99) * 1e6,
        "max_us": (ordered[-1] if ordered else float("nan")) * 1e6,
        "errors": figures.errors,
        "timeouts": 0,
        "statuses": dict(figures.statuses),
        "connections": figures.connections,
        "most_waiting": figures.most_waiting,
        "cpu": (time.process_time() - cpu_before) / wall,
    }
    print("OPENLOOP_JSON " + json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
