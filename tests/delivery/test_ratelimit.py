"""Token buckets, pauses, backoff and giving up."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from bot.delivery.ratelimit import (
    TELEGRAM_LIMITS,
    ChannelLimits,
    RateLimiter,
    RetryPolicy,
    TokenBucket,
)
from tests.delivery.support import START


def test_bucket_allows_a_burst_then_spaces_sends() -> None:
    bucket = TokenBucket(rate=1.0, burst=3, now=0.0)
    assert [bucket.reserve(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.reserve(0.0) == pytest.approx(1.0)
    assert bucket.reserve(0.0) == pytest.approx(2.0)
    assert bucket.wait(10.0) == 0.0


def test_telegram_chat_gets_one_message_a_second_after_a_short_burst() -> None:
    limiter = RateLimiter(TELEGRAM_LIMITS, now=0.0)
    delays = [limiter.reserve("chat", 0.0) for _ in range(6)]
    assert delays[:3] == [0.0, 0.0, 0.0]
    assert delays[3:] == pytest.approx([1.0, 2.0, 3.0])
    assert limiter.reserve("other chat", 0.0) == 0.0


def test_telegram_bot_wide_limit_is_thirty_a_second() -> None:
    limiter = RateLimiter(TELEGRAM_LIMITS, now=0.0)
    delays = [limiter.reserve(f"chat{n}", 0.0) for n in range(60)]
    assert max(delays[:30]) == 0.0
    assert delays[59] == pytest.approx(1.0)


def test_admit_refuses_beyond_the_horizon_without_reserving() -> None:
    limiter = RateLimiter(ChannelLimits(1, 1, 100, 100), now=0.0)
    assert limiter.admit("chat", 0.0, horizon=0.5) == 0.0
    assert limiter.admit("chat", 0.0, horizon=0.5) is None
    assert limiter.admit("chat", 0.0, horizon=1.0) == pytest.approx(1.0)


def test_pauses_for_one_chat_and_for_the_channel() -> None:
    limiter = RateLimiter(ChannelLimits(100, 100, 100, 100), now=0.0)
    limiter.pause("a", 5.0)
    assert limiter.wait("a", 1.0) == pytest.approx(4.0)
    assert limiter.wait("b", 1.0) == 0.0
    limiter.pause_all(8.0)
    assert limiter.wait("b", 1.0) == pytest.approx(7.0)
    assert limiter.paused_until("a") == 8.0
    assert limiter.wait("a", 8.0) == 0.0


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    policy = RetryPolicy(base=1.0, cap=60.0)
    rng = random.Random(7)
    for attempt in range(1, 12):
        ceiling = min(60.0, 2.0 ** (attempt - 1))
        samples = [policy.backoff(attempt, rng) for _ in range(50)]
        assert all(ceiling / 2 <= s <= ceiling for s in samples)
        assert len(set(samples)) > 1
    assert policy.backoff(10_000, rng) <= 60.0


def test_nothing_retries_forever() -> None:
    policy = RetryPolicy(max_attempts=5, max_age=timedelta(hours=1))
    assert not policy.exhausted(4, START, START)
    assert policy.exhausted(5, START, START)
    assert policy.exhausted(1, START, START + timedelta(hours=1))
