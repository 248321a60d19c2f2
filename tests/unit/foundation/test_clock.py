"""The virtual clock fires timers in order, exactly when due, and drives asyncio sleeps."""

from __future__ import annotations

import asyncio

import pytest

from appliance.runtime.clock import RealClock, VirtualClock


def test_timers_fire_in_time_order_and_ties_in_schedule_order() -> None:
    clock = VirtualClock()
    fired: list[tuple[str, float]] = []
    clock.call_later(2.0, lambda: fired.append(("b", clock.monotonic())))
    clock.call_later(1.0, lambda: fired.append(("a", clock.monotonic())))
    clock.call_later(2.0, lambda: fired.append(("c", clock.monotonic())))
    assert clock.advance(1.5) == 1
    assert fired == [("a", 1.0)]
    clock.advance(0.5)
    assert fired == [("a", 1.0), ("b", 2.0), ("c", 2.0)]
    assert clock.monotonic() == 2.0


def test_cancelled_timer_never_fires() -> None:
    clock = VirtualClock()
    fired: list[int] = []
    handle = clock.call_later(1.0, fired.append, 1)
    handle.cancel()
    clock.advance(5)
    assert fired == []
    assert handle.cancelled()
    assert clock.next_deadline() is None


def test_callbacks_may_schedule_timers_that_fire_in_the_same_advance() -> None:
    clock = VirtualClock()
    ticks: list[float] = []

    def tick() -> None:
        ticks.append(clock.monotonic())
        if len(ticks) < 5:
            clock.call_later(0.02, tick)

    clock.call_later(0.02, tick)
    clock.advance(1.0)
    assert ticks == pytest.approx([0.02, 0.04, 0.06, 0.08, 0.10])


def test_wall_time_follows_virtual_time() -> None:
    clock = VirtualClock(epoch=1_000_000.0)
    clock.advance(3600)
    assert clock.time() == 1_003_600.0


def test_clock_cannot_go_backwards() -> None:
    with pytest.raises(ValueError, match="backwards"):
        VirtualClock().advance(-1)


def test_async_sleep_wakes_when_virtual_time_reaches_it() -> None:
    async def scenario() -> list[str]:
        clock = VirtualClock()
        log: list[str] = []

        async def sleeper() -> None:
            await clock.sleep(30)
            log.append(f"woke at {clock.monotonic():g}")

        task = asyncio.create_task(sleeper())
        await asyncio.sleep(0)
        clock.advance(29.9)
        await asyncio.sleep(0)
        assert log == []
        clock.advance(0.1)
        await task
        return log

    assert asyncio.run(scenario()) == ["woke at 30"]


def test_real_clock_timer_fires_on_the_loop() -> None:
    async def scenario() -> bool:
        fired = asyncio.Event()
        RealClock().call_later(0.001, fired.set)
        await asyncio.wait_for(fired.wait(), 1)
        return fired.is_set()

    assert asyncio.run(scenario())
