"""Power benchmark: mains loss -> lifeline latency, and the whole shutdown with 90 calls up.

Runs in real time against the hil simulators (board bus in-process, Megatec UPS
on a pty, NUT's upsd + dummy-ups for the NUT figure) with the default loop
intervals of the [power] section unless stated. Prints median and p99.

    .venv/bin/python bench/power.py [--trials N]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import wave
from collections.abc import Callable
from typing import Any

import sqlite_utils

from appliance.config.sections.power import PowerSection
from appliance.config.validate import Problem, build
from appliance.power import PowerService, PowerState
from appliance.power.policy import PowerInputs
from appliance.runtime.clock import RealClock
from drivers.board import open_board
from drivers.ups import open_ups
from hil.sim.mains import build_rig
from hil.sim.power_nut import NutServer
from hil.sim.ups import MegatecPty

CALLS = 90


def section(**overrides: Any) -> PowerSection:
    problems: list[Problem] = []
    result = build(PowerSection, dict(overrides), ("power",), problems)
    assert not problems, problems
    return result


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def wait(predicate: Callable[[], bool], limit: float) -> float:
    start = time.perf_counter()
    while not predicate():
        if time.perf_counter() - start > limit:
            raise TimeoutError(f"not within {limit} s")
        await asyncio.sleep(0.001)
    return time.perf_counter() - start


async def healthy() -> bool:
    return True


async def ready(deadline: float) -> bool:
    return True


async def latency(
    trials: int, cut: str, ups_address: str | None = None, nut: NutServer | None = None
) -> list[float]:
    """Seconds from mains off to every relay de-energised, ``trials`` times."""
    mains, sim_ups, sim_board, _ = build_rig()
    pty = MegatecPty(sim_ups)
    address = ups_address or f"serial:{pty.port}?protocol=megatec&timeout=0.5"
    service = PowerService(
        section(),
        RealClock(),
        ups=open_ups(address),
        board=open_board("sim:", bus=sim_board),
        watchdog=None,
        telephony_health=healthy,
        telephony_prepare_shutdown=ready,
    )

    def relays() -> list[bool]:
        return [sim_board.relay_energised(i) for i in range(len(sim_board.pairs))]

    results: list[float] = []
    phase = random.Random(1)
    await service.start()
    try:
        await wait(lambda: all(relays()), 5.0)
        for _ in range(trials):
            if cut == "rail":
                mains.off()
            else:  # the INA219 does not see it: only the UPS reports the loss
                sim_ups.set_mains(False)
                if nut is not None:
                    nut.dev.set({"ups.status": "OB DISCHRG"})
            results.append(await wait(lambda: not any(relays()), 10.0))
            if cut == "rail":
                mains.restore()
            else:
                sim_ups.set_mains(True)
                if nut is not None:
                    nut.dev.set({"ups.status": "OL"})
            await wait(lambda: all(relays()) and service.policy.state is PowerState.MAINS, 15.0)
            # start the next trial at a random phase of the poll cycles (fixed seed)
            await asyncio.sleep(0.05 + phase.uniform(0.0, service.config.ups_poll_interval))
    finally:
        await service.stop()
        pty.close()
    return results


async def shutdown_with_calls(folder: str) -> dict[str, float]:
    """Low battery to shutdown command done, telephonyd closing 90 recordings and flushing."""
    recordings = []
    for i in range(CALLS):
        path = os.path.join(folder, f"call-{i:03d}.wav")
        handle = wave.open(path, "wb")  # noqa: SIM115 - closed by the prepare step
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(8000)
        handle.writeframes(b"\0\0" * 8000 * 5)  # five seconds recorded so far
        recordings.append(handle)
    db = sqlite_utils.Database(
        sqlite3.connect(os.path.join(folder, "calls.db"), check_same_thread=False)
    )
    db.conn.execute("PRAGMA journal_mode=WAL")
    db["cdr"].create({"id": int, "call_id": str, "ended": float, "recording": str}, pk="id")

    async def prepare(deadline: float) -> bool:
        def close_all() -> None:
            for i, handle in enumerate(recordings):
                handle.writeframes(b"\0\0" * 160)  # the last 20 ms frame
                handle.close()  # header patched with the final length
                fd = os.open(os.path.join(folder, f"call-{i:03d}.wav"), os.O_RDONLY)
                os.fsync(fd)
                os.close(fd)
            with db.conn:
                db["cdr"].insert_all(
                    {"call_id": f"c{i}", "ended": time.time(), "recording": f"call-{i:03d}.wav"}
                    for i in range(CALLS)
                )
            db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

        await asyncio.to_thread(close_all)
        return True

    mains, _, sim_board, _ = build_rig()
    marker = os.path.join(folder, "off")
    service = PowerService(
        section(shutdown_command=[sys.executable, "-c", f"open({marker!r}, 'w')"]),
        RealClock(),
        ups=None,
        board=open_board("sim:", bus=sim_board),
        watchdog=None,
        telephony_health=healthy,
        telephony_prepare_shutdown=prepare,
    )
    await service.start()
    try:
        await wait(lambda: all(sim_board.relay_energised(i) for i in range(4)), 5.0)
        mains.off()
        await wait(lambda: service.policy.state is PowerState.ON_BATTERY, 5.0)
        t0 = time.perf_counter()
        # what the UPS monitor does on LB: drive the policy straight to low battery
        service.ups_reading = None
        transition = service.policy.observe(PowerInputs(rail_ok=False, low_battery_flag=True))
        assert transition is not None
        await service._act(transition)
        await wait(lambda: "command-done" in dict(service.shutdown_steps), 30.0)
        total = time.perf_counter() - t0
        steps = dict(service.shutdown_steps)
    finally:
        await service.stop()
    return {
        "prepare": steps["telephony-ack"] - steps["telephony-prepare"],
        "command": steps["command-done"] - steps["command"],
        "total": total,
    }


def report(name: str, values: list[float]) -> None:
    ms = [v * 1000 for v in values]
    print(
        f"{name:<52} n={len(ms):3d}  median {statistics.median(ms):7.1f} ms  "
        f"p99 {pct(ms, 0.99):7.1f} ms  max {max(ms):7.1f} ms"
    )


async def main(trials: int) -> None:
    defaults = section()
    print(
        f"power benchmark (rail poll {defaults.rail_poll_interval * 1000:.0f} ms x "
        f"{defaults.rail_confirm_samples} samples, UPS poll {defaults.ups_poll_interval:.1f} s)"
    )
    rail = await latency(trials, "rail")
    report("mains loss -> lifeline, via INA219", rail)
    ups = await latency(trials, "ups")
    report("mains loss -> lifeline, via UPS OB (Megatec Q1)", ups)
    print(f"  the input rail sees it {statistics.median(ups) / statistics.median(rail):.1f}x "
          "sooner than the UPS (median)")
    with NutServer() as nut:
        report(
            "mains loss -> lifeline, via UPS OB (upsd+dummy-ups)",
            await latency(max(3, trials // 5), "ups", nut.address, nut),
        )
    with tempfile.TemporaryDirectory() as folder:
        figures = await shutdown_with_calls(folder)
    print(
        f"shutdown sequence with {CALLS} calls up: telephonyd close+flush "
        f"{figures['prepare'] * 1000:.1f} ms, command {figures['command'] * 1000:.1f} ms, "
        f"low battery -> command done {figures['total'] * 1000:.1f} ms"
    )
    per_call = figures["prepare"] / CALLS * 1000
    print(
        f"  per call: {per_call:.2f} ms; share of the default 30 s deadline used: "
        f"{figures['total'] / defaults.prepare_deadline * 100:.2f} %"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--verbose", action="store_true", help="show powerd's log lines")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.CRITICAL + 1)
    asyncio.run(main(args.trials))
