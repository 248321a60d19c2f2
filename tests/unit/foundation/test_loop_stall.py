"""The event-loop stall detector counts and logs every wake later than 50 ms (issue 13)."""

from __future__ import annotations

import asyncio
import time

import pytest

from appliance.runtime.stall import StallDetector


def test_only_wakes_later_than_the_threshold_count(caplog: pytest.LogCaptureFixture) -> None:
    detector = StallDetector(lambda: 0.0)
    detector.observe(due=10.0, woke=10.049, waited_s=0.0)
    detector.observe(due=11.0, woke=11.0499, waited_s=0.0)
    assert detector.stalls == 0
    detector.observe(due=12.0, woke=12.3, waited_s=0.01)  # our own code held the loop
    detector.observe(due=13.0, woke=13.08, waited_s=0.075)  # the process got no CPU
    assert detector.status() == {"stalls": 2, "worst_ms": 300.0, "blocked": 1,
                                 "worst_blocked_ms": 290.0, "threshold_ms": 50.0}
    assert "event loop stalled for 300 ms (stall 1, blocked 290 ms)" in caplog.text
    assert "stalled for 80 ms (stall 2, starved: 75 ms waiting for a CPU)" in caplog.text


def test_a_blocking_call_on_the_loop_is_seen() -> None:
    async def scenario() -> StallDetector:
        detector = StallDetector(asyncio.get_running_loop().time)
        probe = asyncio.create_task(detector.run())
        await asyncio.sleep(0.05)
        time.sleep(0.2)  # the defect the detector is for: blocking work on the loop
        await asyncio.sleep(0.05)
        probe.cancel()
        return detector

    detector = asyncio.run(scenario())
    assert detector.stalls == 1
    assert 140 <= detector.status()["worst_ms"] < 1000
    assert detector.blocked == 1  # a blocking call: the thread waited, not for a CPU


def test_cpu_bound_work_on_the_loop_counts_as_blocked() -> None:
    async def scenario() -> StallDetector:
        detector = StallDetector(asyncio.get_running_loop().time)
        probe = asyncio.create_task(detector.run())
        await asyncio.sleep(0.05)
        end = time.thread_time() + 0.2
        while time.thread_time() < end:  # CPU-bound work on the loop
            pass
        await asyncio.sleep(0.05)
        probe.cancel()
        return detector

    detector = asyncio.run(scenario())
    assert detector.blocked == 1
    assert detector.status()["worst_blocked_ms"] >= 150
