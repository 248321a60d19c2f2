"""A span's B-channels through the production media path, apart from the I/O.

``PriSpan._audio_block`` with 30 active calls on one span, its frames into the
engine through ``EngineMediaPort`` (one slip-buffer push per block), the engine
tick, and the span's transmit frames back out (one gather per block), as the
daemon runs it for every received 20 ms block. The span's socket is replaced by
a stand-in that discards what is sent, so the figure is the appliance's Python
and numpy cost per span, not the simulator's. Prints the cost per block beside
the engine tick alone (the best of 7 windows of 1000 blocks: the machine's
steal time only ever adds). Run: ``.venv/bin/python bench/span_media.py``.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from appliance.config.sections.spans import SpanEntry
from appliance.media.engine import MediaEngine
from appliance.runtime.clock import VirtualClock
from appliance.signalling.pri.call import PriCall
from appliance.signalling.pri.media import EngineMediaPort
from appliance.signalling.pri.span import PriSpan
from drivers.span import BCHANNELS

BLOCK = 0.020
WINDOWS, BLOCKS = 7, 1000


class DiscardingSpan:
    """The span backend's transmit side, discarding (the I/O is not measured here)."""

    def write_audio(self, frames: Any) -> None:
        return


def active_call(ts: int) -> PriCall:
    call = PriCall(span="e1a", direction="inbound", channel=ts)
    for stimulus in ("recv-setup", "send-proceeding", "send-alerting", "send-connect"):
        call.fire(stimulus)
    return call


def main() -> None:
    engine = MediaEngine(128)
    port = EngineMediaPort(engine)  # DTMF detection on, as in the daemon
    entry = SpanEntry(name="e1a", address="sim:/unused.sock", clock_priority=0)
    pri = PriSpan(entry, DiscardingSpan(), VirtualClock(), media=port)  # type: ignore[arg-type]
    for ts in BCHANNELS:
        pri.channels[ts].call = active_call(ts)
        port.open_channel("e1a", ts, pri.channels[ts].call)
    for a, b in zip(BCHANNELS[::2], BCHANNELS[1::2], strict=True):  # callers bridged in pairs
        engine.bridge(port.handles[("e1a", a)], port.handles[("e1a", b)])
    rng = np.random.default_rng(1)
    block = {ts: rng.integers(-3000, 3000, 160, dtype=np.int16) for ts in BCHANNELS}
    for _ in range(200):  # warm up
        pri._audio_block(block)
        engine.tick()
    path, tick = [], []
    for _ in range(WINDOWS):
        start = time.perf_counter()
        for _ in range(BLOCKS):
            pri._audio_block(block)  # clock_priority 0: the engine is ticked here, apart
            engine.tick()
        path.append((time.perf_counter() - start) / BLOCKS)
        start = time.perf_counter()
        for _ in range(BLOCKS):
            engine.tick()
        tick.append((time.perf_counter() - start) / BLOCKS)
    span_cost = min(path) - min(tick)
    print(f"one span, 30 active B-channels: span <-> engine {span_cost * 1e6:.0f} us per 20 ms "
          f"block ({span_cost / BLOCK * 100:.2f} % of a core); engine tick with them "
          f"{min(tick) * 1e6:.0f} us ({min(tick) / BLOCK * 100:.2f} %); "
          f"3 spans (90 calls) about {3 * span_cost / BLOCK * 100:.1f} % for the span path")


if __name__ == "__main__":
    main()
