"""Background loops: the inbox processor, the outbox dispatcher, escalation timers.

They run inside the server by default (``RUN_WORKERS_IN_SERVER``) and in
``python -m bot worker`` processes for scale. Every loop is safe to run in several
processes at once: work is claimed under database locks. Each loop can be woken early
(``wake``) by the code that created work for it in the same process; otherwise it polls.
The machinery (:class:`~bot.loops.Loop`, :class:`~bot.loops.Workers`) is in ``bot.loops``.
"""

from __future__ import annotations

import asyncio

from bot.delivery.dispatcher import BuildSenders, alert_loop, outbox_loop
from bot.escalation import timers as escalation_timers
from bot.escalation.fastlane import CrisisLane
from bot.loops import Loop, Workers, in_thread
from bot.runtime import Runtime
from bot.waiting import timers as waiting_timers

#: People whose waiting messages the inbox loop runs per tick (a step takes ~0.5 ms of CPU)…
PEOPLE_PER_TICK = 20
#: …and while the webhooks are saturated: one, so that each tick (which shares the
#: interpreter and the SQLite write lock with the webhooks) is short. Steps then run at about
#: 100 a second, more than the platforms' rate limits let the replies go out during a burst.
PEOPLE_UNDER_PRESSURE = 1


def inbox_loop(runtime: Runtime, workers: Workers) -> Loop:
    """Runs pending conversation steps (messages recorded by the webhooks)."""

    async def tick() -> int:
        # Few people per tick (fewer while the webhooks are saturated): a tick cannot be paused.
        limit = PEOPLE_UNDER_PRESSURE if workers.under_pressure() else PEOPLE_PER_TICK
        outcomes, loop.cost = await in_thread(lambda: runtime.conversations.process_pending(limit))
        if any(o.outbound_ids for o in outcomes):
            workers.wake("outbox")
        if any(o.signals for o in outcomes):
            workers.wake("escalation")
        return len(outcomes)

    loop = Loop("inbox", tick)
    return loop


def escalation_round(runtime: Runtime) -> int:
    """One round of the escalation loop (synchronous; the loop runs it in a thread): the
    escalation's timers, then the waiting state's check-ins. Returns the work done."""
    report = escalation_timers.tick(runtime.escalation)
    return report.work + waiting_timers.run_due(runtime.escalation, runtime.content)


def escalation_loop(runtime: Runtime, workers: Workers) -> Loop:
    """Risk signals into cases, due escalation steps, alert deliveries, the overdue auditor,
    the waiting state's check-ins."""

    async def tick() -> int:
        work = await asyncio.to_thread(escalation_round, runtime)
        if work:
            workers.wake("outbox-alerts")
            workers.wake("outbox")
        return work

    # Short ticks, and alerts must not wait for the webhooks: it never gives way.
    return Loop("escalation", tick, idle_interval=1.0, gives_way=False)


CRISIS_LANE = "crisis-lane"
#: Seconds between two looks of an idle crisis lane for messages with crisis words.
CRISIS_LANE_POLL = 0.05


def crisis_lane_loop(runtime: Runtime, workers: Workers) -> Loop:
    """Runs at once the steps of people whose waiting messages hold crisis words."""
    lane = CrisisLane(runtime.conversations)

    async def tick() -> int:
        outcomes = await asyncio.to_thread(lane.run)
        if any(o.signals for o in outcomes):
            workers.wake("escalation")
        if any(o.outbound_ids for o in outcomes):
            workers.wake("outbox")
        return len(outcomes)

    # Woken by the webhooks of its own process on crisis words (``bot.channels.webhook``); in a
    # worker process, or for another process's webhooks, its poll (a read of an index, no
    # write lock) is what finds them: often.
    return Loop(CRISIS_LANE, tick, idle_interval=CRISIS_LANE_POLL, gives_way=False)


def build_workers(runtime: Runtime, build_senders: BuildSenders) -> Workers:
    """Every background loop of a process (server or ``python -m bot worker``); the outbox
    loops send through ``build_senders``' senders (``bot.channels.registry``)."""
    workers = Workers()
    workers.add(inbox_loop(runtime, workers))
    workers.add(crisis_lane_loop(runtime, workers))
    workers.add(escalation_loop(runtime, workers))
    outbox = workers.add(
        outbox_loop(
            runtime.settings, runtime.db, runtime.cipher, build_senders, workers.under_pressure
        )
    )  # sends the outbox; closes its clients when stopped
    outbox.takes_turns = False  # its ticks mostly wait (platforms, rate limits): pausing is enough
    # Alerts to psychologists, never behind other messages.
    workers.add(alert_loop(runtime.settings, runtime.db, runtime.cipher, build_senders))
    return workers
