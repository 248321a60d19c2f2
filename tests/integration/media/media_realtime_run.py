"""Run the media engine in real time and print its counters as JSON (used by the tests).

Started as its own process the way appliance-telephonyd runs: one BLAS thread
(OPENBLAS_NUM_THREADS=1) and, when permitted, a raised scheduling priority.

Usage: python media_realtime_run.py CHANNELS SECONDS
"""

from __future__ import annotations

import asyncio
import json
import sys

import numpy as np

from appliance.media.dsp.dtmf import dtmf_generate
from appliance.media.engine import MediaEngine
from appliance.media.events import DtmfDigit, MediaEvent
from appliance.media.recording import RecordingTap
from appliance.runtime.clock import RealClock
from drivers.span import g711


class CountingSink:
    def __init__(self) -> None:
        self.frames = 0
        self.bad_shapes = 0
        self.closed = 0

    def write(self, tap: RecordingTap, pcm: np.ndarray) -> None:
        self.frames += 1
        self.bad_shapes += pcm.shape != (2, 160)

    def close(self, tap: RecordingTap) -> None:
        self.closed += 1


def main(channels: int, seconds: float) -> dict[str, object]:
    rng = np.random.default_rng(9)
    noise = rng.normal(0, 2000, (250, 160))
    pool = g711.alaw_encode(np.clip(noise, -32768, 32767).astype(np.int16))
    digits = g711.alaw_encode(dtmf_generate("5", on_ms=100, off_ms=100).reshape(-1, 160))
    events: list[MediaEvent] = []
    engine = MediaEngine(channels, on_event=events.append)
    offsets = np.arange(channels) * 3 % len(pool)
    tick_no = 0

    def span_receive() -> np.ndarray:
        # The span driver hands over one block of received frames per tick.
        nonlocal tick_no
        block = pool[(offsets + tick_no) % len(pool)]
        if tick_no % 50 < len(digits):  # channel 0 presses 5 every second
            block[0] = digits[tick_no % 50]
        tick_no += 1
        return block

    names = [f"b{i}" for i in range(channels)]
    span = engine.register_group(names, law="alaw", source=span_receive)
    sink = CountingSink()
    for i in range(0, channels, 2):
        a, b = span.handles[i], span.handles[i + 1]
        engine.bridge(a, b)
        engine.enable_dtmf(a)
        engine.enable_dtmf(b)
        engine.tap(a, b, sink)
    asyncio.run(engine.run(RealClock(), ticks=round(seconds / 0.020)))
    engine.writer.flush()
    engine.close()
    engine.writer.stop()
    stats = engine.stats
    durations = np.array(stats.tick_seconds)
    return {
        "ticks": stats.ticks,
        "late_ticks": stats.late_ticks,
        "overruns": stats.overruns,
        "skipped_ticks": stats.skipped_ticks,
        "missing_frames": stats.missing_frames,
        "recording_dropped": stats.recording_dropped,
        "frames_written": sink.frames,
        "bad_shapes": sink.bad_shapes,
        "taps_closed": sink.closed,
        "digits": [(e.channel.name, e.digit) for e in events if isinstance(e, DtmfDigit)],
        "tick_ms_median": float(np.median(durations) * 1000),
        "tick_ms_max": float(durations.max() * 1000),
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]), float(sys.argv[2]))))
