"""Process-wide metrics (counters, gauges, histograms) in the Prometheus text format.

A small hand-written registry: no dependency, a lock per metric, cheap enough for the webhook
hot path. Declare a metric once at module level and use it anywhere in the process::

    from bot.observability import metrics

    SENT = metrics.counter("bot_messages_out_total", "Messages sent.", ("channel", "outcome"))
    SENT.inc(channel="telegram", outcome="sent")

Declaring the same name again returns the same metric (the kind, help and labels must match).
``GET /metrics`` (``bot.web.metrics``) renders this registry plus figures read from the
database at scrape time. Label values must never be personal data (no numbers, chat ids).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

LabelValues = tuple[str, ...]

DEFAULT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True, slots=True)
class Sample:
    """One line of the exposition: ``name{labels} value``."""

    name: str
    labels: tuple[tuple[str, str], ...]
    value: float


@dataclass(frozen=True, slots=True)
class Family:
    """A metric family ready to render (``# HELP``, ``# TYPE`` and its samples)."""

    name: str
    kind: str
    help: str
    samples: tuple[Sample, ...] = field(default=())


class _Metric:
    kind = "untyped"

    def __init__(self, name: str, help: str, labelnames: Sequence[str]) -> None:
        self.name = name
        self.help = help
        self.labelnames = tuple(labelnames)
        self._lock = threading.Lock()

    def _key(self, labels: dict[str, str]) -> LabelValues:
        if len(labels) != len(self.labelnames):
            raise ValueError(f"{self.name} takes the labels {self.labelnames}, got {set(labels)}")
        try:
            return tuple(str(labels[name]) for name in self.labelnames)
        except KeyError as err:
            raise ValueError(f"{self.name} takes the labels {self.labelnames}") from err

    def _pairs(self, key: LabelValues) -> tuple[tuple[str, str], ...]:
        return tuple(zip(self.labelnames, key, strict=True))

    def family(self) -> Family:
        raise NotImplementedError


class _Valued(_Metric):
    """A metric holding one number per label set."""

    def __init__(self, name: str, help: str, labelnames: Sequence[str] = ()) -> None:
        super().__init__(name, help, labelnames)
        self._values: dict[LabelValues, float] = {}

    def _add(self, amount: float, labels: dict[str, str]) -> None:
        key = self._key(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        with self._lock:
            return self._values.get(self._key(labels), 0.0)

    def family(self) -> Family:
        with self._lock:
            items = sorted(self._values.items())
        return Family(
            self.name,
            self.kind,
            self.help,
            tuple(Sample(self.name, self._pairs(k), v) for k, v in items),
        )


class Counter(_Valued):
    """A value that only goes up (``inc``)."""

    kind = "counter"

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        if amount < 0:
            raise ValueError("a counter only goes up")
        self._add(amount, labels)


class Gauge(_Valued):
    """A value that goes up and down (``set``, ``inc``, ``dec``)."""

    kind = "gauge"

    def set(self, value: float, **labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            self._values[key] = value

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        self._add(amount, labels)

    def dec(self, amount: float = 1.0, **labels: str) -> None:
        self._add(-amount, labels)


class Histogram(_Metric):
    """Observations counted in cumulative buckets, with their sum and count."""

    kind = "histogram"

    def __init__(
        self,
        name: str,
        help: str,
        labelnames: Sequence[str] = (),
        buckets: Sequence[float] = DEFAULT_BUCKETS,
    ) -> None:
        super().__init__(name, help, labelnames)
        if "le" in self.labelnames:
            raise ValueError("a histogram cannot have a label named 'le'")
        bounds = sorted(float(b) for b in buckets)
        if not bounds or bounds != sorted(set(bounds)):
            raise ValueError("buckets must be distinct numbers")
        self.bounds = tuple(b for b in bounds if not math.isinf(b))
        # per label set: counts per bucket (+Inf last), then sum
        self._counts: dict[LabelValues, list[int]] = {}
        self._sums: dict[LabelValues, float] = {}

    def observe(self, value: float, **labels: str) -> None:
        key = self._key(labels)
        index = len(self.bounds)
        for i, bound in enumerate(self.bounds):
            if value <= bound:
                index = i
                break
        with self._lock:
            counts = self._counts.get(key)
            if counts is None:
                counts = self._counts[key] = [0] * (len(self.bounds) + 1)
                self._sums[key] = 0.0
            counts[index] += 1
            self._sums[key] += value

    def count(self, **labels: str) -> int:
        with self._lock:
            return sum(self._counts.get(self._key(labels), ()))

    def family(self) -> Family:
        with self._lock:
            items = sorted((k, list(c), self._sums[k]) for k, c in self._counts.items())
        samples: list[Sample] = []
        for key, counts, total in items:
            pairs = self._pairs(key)
            running = 0
            for bound, n in zip((*self.bounds, math.inf), counts, strict=True):
                running += n
                le = (("le", _number(bound)),)
                samples.append(Sample(f"{self.name}_bucket", pairs + le, running))
            samples.append(Sample(f"{self.name}_sum", pairs, total))
            samples.append(Sample(f"{self.name}_count", pairs, running))
        return Family(self.name, self.kind, self.help, tuple(samples))


M = TypeVar("M", bound=_Metric)


class Registry:
    """The metrics of one process."""

    def __init__(self) -> None:
        self._metrics: dict[str, _Metric] = {}
        self._lock = threading.Lock()

    def _declare(self, metric: M) -> M:
        with self._lock:
            existing = self._metrics.setdefault(metric.name, metric)
        if existing is metric:
            return metric
        if type(existing) is not type(metric) or existing.labelnames != metric.labelnames:
            raise ValueError(f"metric {metric.name} is already declared differently")
        if isinstance(existing, Histogram) and existing.bounds != getattr(metric, "bounds", None):
            raise ValueError(f"metric {metric.name} is already declared with other buckets")
        return existing

    def counter(self, name: str, help: str, labels: Sequence[str] = ()) -> Counter:
        return self._declare(Counter(name, help, labels))

    def gauge(self, name: str, help: str, labels: Sequence[str] = ()) -> Gauge:
        return self._declare(Gauge(name, help, labels))

    def histogram(
        self,
        name: str,
        help: str,
        labels: Sequence[str] = (),
        buckets: Sequence[float] = DEFAULT_BUCKETS,
    ) -> Histogram:
        return self._declare(Histogram(name, help, labels, buckets))

    def families(self) -> list[Family]:
        with self._lock:
            metrics = sorted(self._metrics.values(), key=lambda m: m.name)
        return [m.family() for m in metrics]

    def render(self, extra: Iterable[Family] = ()) -> str:
        """The Prometheus text exposition (version 0.0.4) of every metric, plus ``extra``."""
        return render([*self.families(), *extra])


def render(families: Iterable[Family]) -> str:
    lines: list[str] = []
    for family in families:
        lines.append(f"# HELP {family.name} {_escape_help(family.help)}")
        lines.append(f"# TYPE {family.name} {family.kind}")
        for sample in family.samples:
            if sample.labels:
                inner = ",".join(f'{k}="{_escape_label(v)}"' for k, v in sample.labels)
                lines.append(f"{sample.name}{{{inner}}} {_number(sample.value)}")
            else:
                lines.append(f"{sample.name} {_number(sample.value)}")
    return "\n".join(lines) + "\n"


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _escape_label(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


#: The registry of this process.
metrics = Registry()

# --- inbound (webhooks) ---------------------------------------------------------------------

MESSAGES_IN = metrics.counter(
    "bot_messages_in_total",
    "Webhook deliveries by channel and outcome (accepted, duplicate, ignored, rejected).",
    ("channel", "outcome"),
)
DUPLICATES_DROPPED = metrics.counter(
    "bot_inbound_duplicates_dropped_total",
    "Redelivered messages recognised by their provider id and not processed again.",
    ("channel",),
)
WEBHOOK_LATENCY = metrics.histogram(
    "bot_webhook_latency_seconds",
    "Time from a webhook request's arrival in the handler to its answer.",
    ("channel",),
)
