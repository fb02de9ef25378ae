"""GET /metrics (Prometheus text format) and the metrics registry."""

from __future__ import annotations

import asyncio
import math
import re
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.observability import Registry
from tests.web.webhooks_support import (
    Running,
    make_settings,
    post_twilio,
    post_update,
    running_app,
    text_update,
    twilio_form,
)

# One sample line: name, optional {labels}, value.
SAMPLE = re.compile(
    r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? '
    r"(-?[0-9.e+-]+|\+Inf|-Inf|NaN)$"
)


def parse_exposition(text: str) -> dict[str, float]:
    """Check every line of the exposition and return ``{'name{labels}': value}``."""
    assert text.endswith("\n")
    samples: dict[str, float] = {}
    typed: set[str] = set()
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge", "histogram")
            typed.add(name)
            continue
        match = SAMPLE.match(line)
        assert match, f"not a valid sample line: {line!r}"
        assert re.sub(r"_(bucket|sum|count)$", "", match.group(1)) in typed
        key, value = line.rsplit(" ", 1)
        samples[key] = float(value)
    return samples


@pytest.fixture
async def running(db: Engine, database_url: str) -> Any:
    async with running_app(make_settings(database_url), db) as app:
        yield app


async def scrape(running: Running) -> dict[str, float]:
    response = await running.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse_exposition(response.text)


async def test_messages_in_duplicates_latency_and_depths(running: Running) -> None:
    before = await scrape(running)
    accepted = 'bot_messages_in_total{channel="whatsapp",outcome="accepted"}'
    duplicate = 'bot_messages_in_total{channel="telegram",outcome="duplicate"}'
    latency = 'bot_webhook_latency_seconds_count{channel="whatsapp"}'
    assert before['bot_inbox_depth{channel="whatsapp"}'] == 0
    assert before['bot_outbox_depth{channel="whatsapp"}'] == 0
    assert before["bot_database_up"] == 1

    people = ["whatsapp:+51911111111", "whatsapp:+51922222222", "whatsapp:+51933333333"]
    for person in people:
        await post_twilio(running.client, twilio_form(person, "hola"))
    update = text_update(77, "hola")
    for _ in range(2):
        await post_update(running.client, update)

    after = await scrape(running)
    assert after[accepted] == before.get(accepted, 0) + 3
    assert after[duplicate] == before.get(duplicate, 0) + 1
    assert after[latency] == before.get(latency, 0) + 3
    dropped = 'bot_inbound_duplicates_dropped_total{channel="telegram"}'
    assert after[dropped] == before.get(dropped, 0) + 1
    assert after['bot_inbox_depth{channel="whatsapp"}'] == 3
    assert after['bot_inbox_depth{channel="telegram"}'] == 1
    buckets = [v for k, v in after.items() if k.startswith("bot_webhook_latency_seconds_bucket")]
    assert buckets and all(v >= 0 for v in buckets)

    steps = await asyncio.to_thread(running.runtime.conversations.process_pending)
    drained = await scrape(running)
    assert drained['bot_inbox_depth{channel="whatsapp"}'] == 0
    replies = sum(len(s.outbound_ids) for s in steps if s.inbound_id)
    outbox = drained['bot_outbox_depth{channel="whatsapp"}']
    outbox += drained['bot_outbox_depth{channel="telegram"}']
    assert outbox == replies > 0


async def test_loop_ages_are_reported(db: Engine, database_url: str) -> None:
    settings = make_settings(database_url, run_workers_in_server=True)
    async with running_app(settings, db) as running:
        for _ in range(100):
            samples = await scrape(running)
            age = samples['bot_loop_last_tick_age_seconds{loop="inbox"}']
            if not math.isinf(age):
                break
            await asyncio.sleep(0.02)
        assert 0 <= age < 5


async def test_a_database_outage_is_reported_not_raised(tmp_path: Any) -> None:
    from bot.db.engine import make_engine

    settings = make_settings(f"sqlite:///{tmp_path / 'x.db'}")
    dead = make_engine("postgresql+psycopg://postgres@127.0.0.1:9/nowhere?connect_timeout=1")
    try:
        async with running_app(settings, dead) as running:
            samples = await scrape(running)
    finally:
        dead.dispose()
    assert samples["bot_database_up"] == 0


# --- the registry ----------------------------------------------------------------------------


def test_counters_gauges_and_histograms_render_in_the_text_format() -> None:
    registry = Registry()
    sent = registry.counter("x_sent_total", "Sent.\nTwo lines", ("channel", "outcome"))
    sent.inc(channel="telegram", outcome="sent")
    sent.inc(2, channel="telegram", outcome="sent")
    sent.inc(channel='we"ird\\', outcome="failed")
    depth = registry.gauge("x_depth", "Depth.")
    depth.set(5)
    depth.dec(2)
    latency = registry.histogram("x_seconds", "Latency.", ("channel",), buckets=(0.1, 1))
    for value in (0.05, 0.1, 0.5, 3):
        latency.observe(value, channel="a")
    text = registry.render()
    samples = parse_exposition(text)
    assert "# HELP x_sent_total Sent.\\nTwo lines" in text
    assert samples['x_sent_total{channel="telegram",outcome="sent"}'] == 3
    assert samples['x_sent_total{channel="we\\"ird\\\\",outcome="failed"}'] == 1
    assert samples["x_depth"] == 3
    assert samples['x_seconds_bucket{channel="a",le="0.1"}'] == 2
    assert samples['x_seconds_bucket{channel="a",le="1"}'] == 3
    assert samples['x_seconds_bucket{channel="a",le="+Inf"}'] == 4
    assert samples['x_seconds_count{channel="a"}'] == 4
    assert samples['x_seconds_sum{channel="a"}'] == pytest.approx(3.65)
    assert sent.value(channel="telegram", outcome="sent") == 3
    assert latency.count(channel="a") == 4


def test_declaring_again_returns_the_same_metric_and_mismatches_fail() -> None:
    registry = Registry()
    first = registry.counter("x_total", "X.", ("channel",))
    assert registry.counter("x_total", "X.", ("channel",)) is first
    with pytest.raises(ValueError):
        registry.counter("x_total", "X.", ("other",))
    with pytest.raises(ValueError):
        registry.gauge("x_total", "X.", ("channel",))
    registry.histogram("h", "H.", buckets=(1, 2))
    with pytest.raises(ValueError):
        registry.histogram("h", "H.", buckets=(1, 3))


def test_wrong_labels_and_negative_increments_are_errors() -> None:
    counter = Registry().counter("x_total", "X.", ("channel",))
    with pytest.raises(ValueError):
        counter.inc(other="a")
    with pytest.raises(ValueError):
        counter.inc()
    with pytest.raises(ValueError):
        counter.inc(-1, channel="a")
