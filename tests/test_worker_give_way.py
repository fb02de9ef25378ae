"""Background loops give way to saturated webhooks (bot.loops), except the crisis lane."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.loops import GIVE_WAY, Loop, Workers, in_thread


async def ticks_in(seconds: float, *, pressure: bool, gives_way: bool = True) -> int:
    count = 0

    async def tick() -> int:
        nonlocal count
        count += 1
        await asyncio.sleep(0.02)  # a tick that works for 20 ms
        return 1

    workers = Workers()
    workers.pressure = lambda: pressure
    workers.add(Loop("busy", tick, gives_way=gives_way))
    workers.start()
    await asyncio.sleep(seconds)
    await workers.stop()
    return count


async def test_a_busy_loop_pauses_while_the_webhooks_are_saturated() -> None:
    free = await ticks_in(0.6, pressure=False)
    saturated = await ticks_in(0.6, pressure=True)
    assert free >= 15
    # each 20 ms tick is followed by GIVE_WAY × 20 ms of pause
    assert saturated <= 0.6 / (0.02 * (1 + GIVE_WAY)) + 2
    assert saturated < free / 2


async def test_a_loop_that_must_not_wait_keeps_going() -> None:
    assert await ticks_in(0.4, pressure=True, gives_way=False) >= 10


async def test_without_a_web_app_there_is_no_pressure() -> None:
    workers = Workers()
    assert not workers.under_pressure()


async def test_loops_that_give_way_take_turns() -> None:
    counts = {"a": 0, "b": 0}

    def make(name: str) -> Loop:
        async def tick() -> int:
            counts[name] += 1
            await asyncio.sleep(0.02)
            return 1

        return Loop(name, tick)

    workers = Workers()
    workers.pressure = lambda: True
    workers.add(make("a"))
    workers.add(make("b"))
    workers.start()
    await asyncio.sleep(0.6)
    await workers.stop()
    # together, not each, they get one 20 ms tick per (1 + GIVE_WAY) × 20 ms
    assert counts["a"] and counts["b"]
    assert counts["a"] + counts["b"] <= 0.6 / (0.02 * (1 + GIVE_WAY)) + 2


async def test_the_pause_follows_the_cpu_a_threaded_tick_used_not_its_wall_time() -> None:
    """A tick that mostly waits (for the database lock, for the interpreter) pauses for
    GIVE_WAY times the CPU it used, so waiting does not starve the loop under pressure."""
    counts = {"wall": 0, "cpu": 0}

    def make(name: str) -> Loop:
        async def tick() -> int:
            counts[name] += 1
            _, cost = await in_thread(lambda: time.sleep(0.02))  # 20 ms of waiting
            if name == "cpu":
                loop.cost = cost
            return 1

        loop = Loop(name, tick, takes_turns=False)
        return loop

    for name in counts:
        workers = Workers()
        workers.pressure = lambda: True
        workers.add(make(name))
        workers.start()
        await asyncio.sleep(0.6)
        await workers.stop()
    assert counts["wall"] <= 0.6 / (0.02 * (1 + GIVE_WAY)) + 2
    assert counts["cpu"] > 2 * counts["wall"]


async def test_in_thread_measures_the_cpu_of_the_call() -> None:
    def spin() -> int:
        end = time.thread_time() + 0.03
        while time.thread_time() < end:
            pass
        return 7

    assert await in_thread(spin) == (7, pytest.approx(0.03, abs=0.02))
    _, waited = await in_thread(lambda: time.sleep(0.05))
    assert waited < 0.01
