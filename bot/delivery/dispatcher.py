"""The outbox dispatcher: sends committed replies, in order per person, at most as fast as
the platforms allow, and records each outcome.

Delivery guarantee: **at least once**. A row is claimed under a lease before it is sent and
marked ``sent`` right after the platform accepts it. If the process dies between the two
(or a send times out after the platform took it), the lease runs out and the message is
sent again: the person may, rarely, get it twice. The other choice, at most once, would
drop a message in that case, and a lost crisis resource or question is worse than a
repeated one. The window is kept small (the outcome is written as soon as the platform
answers; long messages record each accepted part), every resend after an interrupted
attempt is logged and counted (``outcome="resent"``), and messages that were committed but
never sent are always sent after a restart. Neither Telegram nor Twilio accept an
idempotency key for sending, so exactly-once delivery is not possible.

Failures: a 429 waits for ``retry_after`` (the chat and the channel pause); 5xx and
network errors back off exponentially with jitter; after ``RetryPolicy.max_attempts`` or
``max_age`` the row is failed. Telegram 403 marks the person unreachable, Twilio 21610
opted out, 21211 unreachable; 63016 and the 24-hour window hold the message.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from bot.crypto import Cipher, InvalidToken
from bot.db.models import utcnow
from bot.delivery import stats
from bot.delivery.claims import LEASE, UNORDERED_PURPOSES, URGENT_PURPOSES, Claim, Outbox
from bot.delivery.ratelimit import RateLimiter
from bot.delivery.sender import SEND_TIMEOUT, Outgoing, Sender, SendError
from bot.loops import ClosingLoop
from bot.outbox.enums import Channel
from bot.outbox.failures import Failure
from bot.outbox.person_marks import marks_person
from bot.outbox.reply import Choice
from bot.settings import Settings

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
#: Builds the senders of the configured channels (``bot.channels.registry.build_senders``).
BuildSenders = Callable[[Settings], Mapping[str, Sender[Any]]]
Sleep = Callable[[float], Awaitable[None]]

#: Rows claimed per tick (sent concurrently; at most one per person)…
BATCH = 50
#: …and while the webhooks of the process are saturated: the sends of a round run on the
#: event loop that answers them, and 50 at once delay every webhook by tens of milliseconds.
BATCH_UNDER_PRESSURE = 8
#: A row is claimed only if its rate limit lets it go within this many seconds.
HORIZON = 2.0
#: A send that has not finished after this long is abandoned and retried later, whatever
#: the HTTP client's own timeouts (which cover each read, not the whole call).
SEND_DEADLINE = SEND_TIMEOUT + 1.0
#: How often rows waiting for an unconfigured channel are looked for.
STRAY_CHECK = timedelta(seconds=60)


class Dispatcher:
    """Sends the outbox of the channels it has senders for. ``tick`` does one round."""

    def __init__(
        self,
        db: Engine,
        cipher: Cipher,
        senders: Mapping[str, Sender[Any]],
        *,
        clock: Clock = utcnow,
        sleep: Sleep = asyncio.sleep,
        batch: int = BATCH,
        lease: timedelta = LEASE,
        horizon: float = HORIZON,
        rng: random.Random | None = None,
        purposes: frozenset[str] | None = None,
        pressure: Callable[[], bool] | None = None,
        send_timeout: float = SEND_DEADLINE,
    ) -> None:
        self.send_timeout = send_timeout
        #: Only rows with these purposes (None: all): see ``alert_loop``.
        self.purposes = purposes
        #: True while the webhooks sharing this event loop are saturated (smaller rounds).
        self.pressure = pressure
        self.outbox = Outbox(db, lease=lease)
        self.cipher = cipher
        self.senders = dict(senders)
        self.clock = clock
        self.sleep = sleep
        self.batch = batch
        self.horizon = horizon
        self.rng = rng or random.Random()
        start = clock().timestamp()
        self.limiters = {name: RateLimiter(s.limits, start) for name, s in self.senders.items()}
        self._strays_checked: datetime | None = None
        self._strays_reported: set[str] = set()

    # --- the round -----------------------------------------------------------------------

    async def tick(self) -> int:
        """Claim due messages and send them; returns how many were handled."""
        await self._report_strays()
        now = self.clock()
        batch = self.batch
        if self.pressure is not None and self.pressure():
            batch = min(batch, BATCH_UNDER_PRESSURE)
        claims = await asyncio.to_thread(
            self.outbox.claim, list(self.senders), batch, now, self._admit, self.purposes
        )
        if not claims:
            return 0
        results = await asyncio.gather(*(self._deliver(c) for c in claims), return_exceptions=True)
        for claim, result in zip(claims, results, strict=True):
            if isinstance(result, BaseException):
                # The row stays claimed; its lease runs out and it is tried again (and
                # failed after max attempts). The loop carries on with the others.
                log.error(
                    "delivery crashed",
                    extra={"outbound_id": claim.id, "channel": claim.channel},
                    exc_info=result,
                )
        return len(claims)

    def _admit(self, channel: str, recipient_hash: str, purpose: str) -> float | None:
        if purpose in UNORDERED_PURPOSES:
            return 0.0  # a button press's answer: first in line, no rate-limit wait
        now = self.clock().timestamp()
        return self.limiters[channel].admit(recipient_hash, now, self.horizon)

    # --- one message ---------------------------------------------------------------------

    async def _deliver(self, claim: Claim) -> None:
        sender = self.senders[claim.channel]
        if sender.retry.exhausted(claim.token - 1, claim.age_from, self.clock()):
            # Out of attempts (e.g. every earlier attempt crashed) or too old to be useful.
            await self._give_up(claim, "expired")
            return
        if claim.interrupted:
            stats.outcome(claim.channel, "resent")
            log.warning(
                "resending a message whose previous attempt was interrupted; "
                "the person may receive it twice",
                extra=_ids(claim),
            )
        try:
            msg = self._outgoing(claim)
            parts = list(sender.plan(msg, self.clock()))
        except SendError as err:
            await self._failed(claim, err)
            return
        if claim.delay > 0:
            await self.sleep(claim.delay)
        provider_id: str | None = None
        for index in range(claim.parts_done, len(parts)):
            if index > claim.parts_done and not claim.unordered:
                limiter = self.limiters[claim.channel]
                await self.sleep(limiter.reserve(claim.recipient_hash, self._seconds()))
            try:
                provider_id = await asyncio.wait_for(
                    sender.send(msg, parts[index]), self.send_timeout
                )
            except TimeoutError:
                # A hung call (the client's own timeouts did not end it): retried later.
                await self._failed(claim, SendError(Failure.RETRY, f"{claim.channel}.timeout"))
                return
            except SendError as err:
                await self._failed(claim, err)
                return
            if index < len(parts) - 1:
                kept = await asyncio.to_thread(
                    self.outbox.progress, claim, index + 1, provider_id, self.clock()
                )
                if not kept:
                    log.warning("lost the claim on a message mid-way", extra=_ids(claim))
                    return
        recorded = await asyncio.to_thread(
            self.outbox.sent, claim, provider_id, self.clock(), sender.receipts
        )
        if recorded:
            stats.outcome(claim.channel, "sent")
            log.info("message sent", extra={**_ids(claim), "parts": len(parts)})
        else:
            log.warning("message sent after its claim was lost", extra=_ids(claim))

    def _outgoing(self, claim: Claim) -> Outgoing:
        if claim.recipient_enc is None:
            raise SendError(Failure.PERMANENT, "recipient.missing")
        try:
            recipient = self.cipher.decrypt(claim.recipient_enc)
        except InvalidToken:
            raise SendError(Failure.PERMANENT, "recipient.unreadable") from None
        choices = tuple(_choice(c) for c in claim.choices if isinstance(c, dict))
        return Outgoing(
            id=claim.id,
            channel=claim.channel,
            recipient=recipient,
            purpose=claim.purpose,
            text=claim.text,
            choices=choices,
            created_at=claim.created_at,
            window_from=claim.window_from,
        )

    async def _failed(self, claim: Claim, err: SendError) -> None:
        now = self.clock()
        channel = claim.channel
        stats.failure(channel, err.code)
        extra = {**_ids(claim), "code": err.code}
        if err.failure is Failure.RETRY:
            policy = self.senders[channel].retry
            if not policy.exhausted(claim.token, claim.age_from, now):
                wait = err.retry_after
                if wait is None:
                    wait = policy.backoff(claim.token, self.rng)
                self._pause(claim, err, wait)
                await asyncio.to_thread(
                    self.outbox.retry, claim, now + timedelta(seconds=wait), err.error
                )
                stats.outcome(channel, "retry")
                log.info("send failed; will retry", extra={**extra, "retry_in": round(wait, 3)})
                return
            await self._give_up(claim, err.error)
        elif err.failure is Failure.HOLD and claim.participant_id is None:
            # Staff (an alert): failing it lets escalation try their next channel now.
            await asyncio.to_thread(self.outbox.fail, claim, err.error, now)
            stats.outcome(channel, "failed")
            log.warning("message to staff failed: outside the WhatsApp window", extra=extra)
        elif err.failure is Failure.HOLD:
            await asyncio.to_thread(self.outbox.hold, claim, err.error, now)
            stats.outcome(channel, "held")
            stats.held(channel, claim.purpose)
            log.warning("message held: outside the WhatsApp 24-hour window", extra=extra)
        else:
            marked = marks_person(err.failure)
            await asyncio.to_thread(self.outbox.fail, claim, err.error, now, failure=err.failure)
            stats.outcome(channel, err.failure.value if marked else "failed")
            log.warning("message failed", extra={**extra, "failure": err.failure.value})

    async def _give_up(self, claim: Claim, reason: str) -> None:
        error = f"gave up after {claim.token} attempts: {reason}"
        await asyncio.to_thread(self.outbox.fail, claim, error, self.clock())
        stats.outcome(claim.channel, "failed")
        log.error("message failed: retries exhausted or too old", extra=_ids(claim))

    def _pause(self, claim: Claim, err: SendError, wait: float) -> None:
        limiter = self.limiters[claim.channel]
        until = self._seconds() + wait
        if err.retry_after is not None:
            limiter.pause(claim.recipient_hash, until)
        if err.channel_wide:
            limiter.pause_all(until)

    def _seconds(self) -> float:
        return self.clock().timestamp()

    # --- channels without a sender ---------------------------------------------------------

    async def _report_strays(self) -> None:
        now = self.clock()
        if self._strays_checked is not None and now - self._strays_checked < STRAY_CHECK:
            return
        self._strays_checked = now
        exclude = [*self.senders, Channel.SIM]
        waiting = await asyncio.to_thread(self.outbox.waiting_channels, exclude)
        for channel in set(waiting) | self._strays_reported:
            stats.UNSENDABLE.set(1 if channel in waiting else 0, channel=channel)
        for channel in waiting:
            if channel not in self._strays_reported:
                self._strays_reported.add(channel)
                log.error(
                    "messages are waiting for a channel that is not configured; they stay "
                    "pending until its credentials are set",
                    extra={"channel": channel},
                )

    async def close(self) -> None:
        for sender in self.senders.values():
            await sender.close()


def _choice(raw: dict[str, Any]) -> Choice:
    return Choice(
        key=str(raw.get("key", "")),
        label=str(raw.get("label", "")),
        payload=str(raw.get("payload", "")),
    )


def _ids(claim: Claim) -> dict[str, Any]:
    return {
        "outbound_id": claim.id,
        "channel": claim.channel,
        "participant_id": claim.participant_id,
        "attempt": claim.token,
    }


# --- the background loop -------------------------------------------------------------------


class OutboxRunner:
    """Builds the dispatcher on the loop's first tick (the senders' HTTP clients belong to
    the event loop that uses them) and closes it when the loop stops."""

    def __init__(
        self,
        settings: Settings,
        db: Engine,
        cipher: Cipher,
        build_senders: BuildSenders,
        purposes: frozenset[str] | None = None,
        pressure: Callable[[], bool] | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.cipher = cipher
        self.build_senders = build_senders
        self.purposes = purposes
        self.pressure = pressure
        self.dispatcher: Dispatcher | None = None

    async def tick(self) -> int:
        if self.dispatcher is None:
            senders = self.build_senders(self.settings)
            self.dispatcher = Dispatcher(
                self.db,
                self.cipher,
                senders,
                purposes=self.purposes,
                pressure=self.pressure,
            )
            log.info("outbox dispatcher started", extra={"channels": sorted(senders)})
        return await self.dispatcher.tick()

    async def close(self) -> None:
        if self.dispatcher is not None:
            dispatcher, self.dispatcher = self.dispatcher, None
            await dispatcher.close()


def outbox_loop(
    settings: Settings,
    db: Engine,
    cipher: Cipher,
    build_senders: BuildSenders,
    pressure: Callable[[], bool] | None = None,
) -> ClosingLoop:
    """The "outbox" loop; ``Workers.stop`` (server shutdown, worker exit) ends it, which
    closes the senders' HTTP clients (``Bot`` requests, the Twilio httpx client).
    ``pressure``: whether the webhooks of this process are saturated (smaller rounds)."""
    runner = OutboxRunner(settings, db, cipher, build_senders, pressure=pressure)
    return ClosingLoop("outbox", runner.tick, idle_interval=0.25, on_stop=runner.close)


def alert_loop(
    settings: Settings, db: Engine, cipher: Cipher, build_senders: BuildSenders
) -> ClosingLoop:
    """The "outbox-alerts" loop: a second dispatcher that claims only messages to on-call
    psychologists (``URGENT_PURPOSES``: alerts, relayed words, answers to their commands), so
    an alert never waits for the main dispatcher's round of replies (a round lasts as long as
    its slowest rate-limited send). Both claim under the same lease, so a row is sent by one
    of them; per-recipient order still holds."""
    runner = OutboxRunner(settings, db, cipher, build_senders, URGENT_PURPOSES)
    return ClosingLoop(
        "outbox-alerts", runner.tick, idle_interval=0.25, gives_way=False, on_stop=runner.close
    )
