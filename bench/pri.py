"""PRI benchmark: call set-ups per second to CONNECT on one E1 span, simulator as far end.

Run: ``.venv/bin/python bench/pri.py [rounds]``. Each round the network side
offers 30 calls at once per span (one per B-channel; 1 span, then 3); the
appliance answers each
(CALL PROCEEDING, ALERTING, CONNECT); then every call is cleared. Printed:
set-ups per second (SETUP sent to CONNECT received at the far end, both sides
on one asyncio loop, one core), and the appliance-side D-channel processing
time per call (libpri decoding + our state machine), median and p99.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

from appliance.signalling.pri.call import PriCall
from appliance.signalling.pri.span import PriSpan
from drivers.span import BCHANNELS
from hil.sim.e1_rig import E1Rig, short_tempdir


async def run(rounds: int, spans: int = 1) -> dict[str, float]:
    finished: list[PriCall] = []

    def collect(span: PriSpan, call: PriCall, what: str) -> None:
        if what == "cleared":
            finished.append(call)

    with short_tempdir() as tmp:
        async with E1Rig(Path(tmp), spans=spans, pcap=False) as rig:
            for line in rig.lines:
                line.pri.listeners.append(collect)
            connect_seconds = 0.0
            for _ in range(rounds):
                started = time.perf_counter()
                calls = [(line, line.sim.place_call(ts, "4000", "0301234567"))
                         for line in rig.lines for ts in BCHANNELS]
                await asyncio.gather(*(c.connected.wait() for _, c in calls))
                connect_seconds += time.perf_counter() - started
                for line, call in calls:
                    line.sim.hangup(call)
                await asyncio.gather(*(c.done.wait() for _, c in calls))
                await rig.wait_for(lambda: all(
                    line.pri.status()["channel_counts"] == {"idle": 30} for line in rig.lines))
    per_call = sorted(c.processing for c in finished)
    total = rounds * len(BCHANNELS) * spans
    return {
        "calls": total,
        "setups_per_second": total / connect_seconds,
        "processing_median_ms": statistics.median(per_call) * 1e3,
        "processing_p99_ms": per_call[int(0.99 * (len(per_call) - 1))] * 1e3,
        "processing_max_ms": per_call[-1] * 1e3,
    }


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    for spans in (1, 3):
        figures = asyncio.run(run(rounds, spans))
        channels = 30 * spans
        rate = figures["setups_per_second"]
        print(f"{spans} span(s), {figures['calls']:.0f} calls answered")
        print(f"  set-ups per second to CONNECT: {rate:.0f} "
              f"(all {channels} B-channels answered in {channels * 1e3 / rate:.1f} ms)")
        print(f"  appliance processing per call: median {figures['processing_median_ms']:.3f} ms,"
              f" p99 {figures['processing_p99_ms']:.3f} ms, max {figures['processing_max_ms']:.3f}"
              " ms")


if __name__ == "__main__":
    main()
