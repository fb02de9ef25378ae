"""Send rates and retries: token buckets per chat and per channel, pauses asked for by the
platform (HTTP 429), exponential backoff with jitter, and when to give up.

Telegram asks for at most about one message per second in a chat (short bursts allowed) and
about 30 per second overall; a 429 carries ``retry_after``. Twilio queues up to 80 messages
per second per WhatsApp sender and answers 429 or 5xx when it cannot take more; we back off.
Nothing retries forever: a message is failed after ``max_attempts`` tries or ``max_age``.

Times are seconds on the dispatcher's clock (``clock().timestamp()``), so tests can drive it.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class ChannelLimits:
    """Sustained rate (messages per second) and burst, per chat and for the whole channel."""

    per_chat_rate: float
    per_chat_burst: float
    global_rate: float
    global_burst: float


TELEGRAM_LIMITS = ChannelLimits(
    per_chat_rate=1.0, per_chat_burst=3, global_rate=30, global_burst=30
)
WHATSAPP_LIMITS = ChannelLimits(
    per_chat_rate=1.0, per_chat_burst=5, global_rate=80, global_burst=80
)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter, capped, and the point where we give up."""

    base: float = 1.0
    cap: float = 600.0
    max_attempts: int = 20
    max_age: timedelta = timedelta(hours=24)

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1, 2, …): half of the
        capped exponential delay plus a random share of the other half."""
        ceiling = min(self.cap, self.base * 2.0 ** max(0, min(attempt - 1, 32)))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)

    def exhausted(self, attempts: int, created_at: datetime, now: datetime) -> bool:
        return attempts >= self.max_attempts or now - created_at >= self.max_age


class TokenBucket:
    """``rate`` tokens a second up to ``burst``. ``reserve`` takes a token even when none is
    left (the balance goes negative) and says how long to wait before using it."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = float(burst)
        self.tokens = float(burst)
        self.updated = now

    def _refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
            self.updated = now

    def wait(self, now: float) -> float:
        """Seconds until a token is available (without taking it)."""
        self._refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def reserve(self, now: float) -> float:
        delay = self.wait(now)
        self.tokens -= 1
        return delay

    def idle(self, now: float) -> bool:
        self._refill(now)
        return self.tokens >= self.burst


class RateLimiter:
    """The send budget of one channel in this process: a bucket per chat (keyed by the
    recipient hash, never the identifier), one for the channel, and pauses. Thread-safe: the
    dispatcher admits messages from its database thread and reserves from the event loop."""

    def __init__(self, limits: ChannelLimits, now: float) -> None:
        self.limits = limits
        self._global = TokenBucket(limits.global_rate, limits.global_burst, now)
        self._chats: dict[str, TokenBucket] = {}
        self._paused: dict[str, float] = {}
        self._paused_all = 0.0
        self._lock = threading.Lock()

    def _chat(self, key: str, now: float) -> TokenBucket:
        bucket = self._chats.get(key)
        if bucket is None:
            if len(self._chats) > 10_000:
                self._prune(now)
            limits = self.limits
            bucket = self._chats[key] = TokenBucket(
                limits.per_chat_rate, limits.per_chat_burst, now
            )
        return bucket

    def wait(self, key: str, now: float) -> float:
        """Seconds before a message for ``key`` may go (nothing is reserved)."""
        with self._lock:
            return self._wait(key, now)

    def _wait(self, key: str, now: float) -> float:
        pause = max(self._paused.get(key, 0.0), self._paused_all) - now
        return max(0.0, pause, self._chat(key, now).wait(now), self._global.wait(now))

    def admit(self, key: str, now: float, horizon: float) -> float | None:
        """Reserve a send for ``key`` if it can go within ``horizon`` seconds; returns the
        delay to wait before sending, or None (not now: nothing reserved)."""
        with self._lock:
            wait = self._wait(key, now)
            if wait > horizon:
                return None
            return self._reserve(key, now)

    def reserve(self, key: str, now: float) -> float:
        """Reserve the next send for ``key`` (a further part of a long message); returns
        the delay to wait before sending it."""
        with self._lock:
            return self._reserve(key, now)

    def _reserve(self, key: str, now: float) -> float:
        pause = max(self._paused.get(key, 0.0), self._paused_all) - now
        chat = self._chat(key, now).reserve(now)
        return max(0.0, pause, chat, self._global.reserve(now))

    def pause(self, key: str, until: float) -> None:
        """Send nothing to ``key`` before ``until`` (a 429 for that chat)."""
        with self._lock:
            self._paused[key] = max(self._paused.get(key, 0.0), until)

    def pause_all(self, until: float) -> None:
        """Send nothing on this channel before ``until`` (a 429 for the whole account)."""
        with self._lock:
            self._paused_all = max(self._paused_all, until)

    def paused_until(self, key: str | None = None) -> float:
        with self._lock:
            if key is None:
                return self._paused_all
            return max(self._paused.get(key, 0.0), self._paused_all)

    def _prune(self, now: float) -> None:
        for key in [k for k, bucket in self._chats.items() if bucket.idle(now)]:
            del self._chats[key]
        for key in [k for k, until in self._paused.items() if until <= now]:
            del self._paused[key]
