"""240 simultaneous recordings on the real media engine: dropped frames and disk throughput.

Run: .venv/bin/python bench/recording.py [--calls 240] [--seconds 20] [--encoding pcm16]
Registers a caller and an agent channel per call, records every call through the
media engine's tap and the recorder's WAV sinks, and ticks the engine in real
time (one tick every 20 ms) for ``--seconds``. Prints the frames dropped by the
tap queue, the audio and bytes written, the disk throughput and the tick time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from appliance.config.sections.recording import RecordingSection
from appliance.media.engine import MediaEngine
from appliance.recording import CallInfo, Recorder, RecordingIndex, read_audio
from appliance.runtime.clock import RealClock
from appliance.store import open_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=240)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--encoding", choices=["pcm16", "alaw"], default="pcm16")
    parser.add_argument("--folder", help="where to write (default: a temporary folder)")
    args = parser.parse_args()
    folder = args.folder or tempfile.mkdtemp(prefix="recbench-")
    engine = MediaEngine(capacity=2 * args.calls + 2)
    settings = RecordingSection(policy="all", encoding=args.encoding, min_free_mb=0)
    index = RecordingIndex(open_database(os.path.join(folder, "bench.db")))
    recorder = Recorder(os.path.join(folder, "recordings"), index, engine, settings, RealClock())
    rng = np.random.default_rng(1)
    speech = rng.integers(-8000, 8000, (2 * args.calls, 160), dtype=np.int16)
    legs = []
    for n in range(args.calls):
        caller = engine.register(f"span{n // 30 + 1}/{n % 30 + 1}")
        agent = engine.register(f"sip/agent{n}")
        engine.bridge(caller, agent)
        legs.append((caller, agent))

    async def record_all() -> None:  # as telephonyd starts them: files in workers, taps here
        await asyncio.gather(*(
            recorder.record(CallInfo(f"bench-{n}", caller="0612345678", agent=f"a{n}"),
                            lambda pair=pair: pair, reason="all")
            for n, pair in enumerate(legs)))
    asyncio.run(record_all())
    ticks = int(args.seconds / 0.02)
    tick_times: list[float] = []
    started = time.perf_counter()
    deadline = started
    for tick in range(ticks):
        for i, (caller, agent) in enumerate(legs):
            caller.write_input(np.roll(speech[2 * i], tick))
            agent.write_input(np.roll(speech[2 * i + 1], tick))
        began = time.perf_counter()
        engine.tick()
        tick_times.append(time.perf_counter() - began)
        deadline += 0.02
        pause = deadline - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
    for n in range(args.calls):
        recorder.stop(f"bench-{n}")
    engine.writer.flush(timeout=60)
    elapsed = time.perf_counter() - started
    deadline_wait = time.time() + 30
    while index.by_status("recording") and time.time() < deadline_wait:
        time.sleep(0.05)
    rows = index.all()
    total_bytes = sum(r.size for r in rows)
    statuses = {r.status for r in rows}
    short = [r for r in rows if abs(r.duration - ticks * 0.02) > 1e-6]
    sample = read_audio(os.path.join(recorder.root, rows[0].path))[1]
    print(f"calls recorded          {len(rows)} ({args.encoding}, stereo), statuses {statuses}")
    print(f"audio per call          {ticks * 0.02:.1f} s ({ticks} frames); "
          f"files short of it: {len(short)}")
    print(f"dropped frames          {engine.writer.dropped_batches} tick batches, "
          f"{engine.stats.recording_dropped} tap frames")
    print(f"bytes written           {total_bytes / 1e6:.1f} MB in {elapsed:.1f} s")
    print(f"disk throughput         {total_bytes / elapsed / 1e6:.2f} MB/s "
          f"({total_bytes / elapsed / args.calls / 1e3:.1f} kB/s per call)")
    print(f"tick time               mean {1000 * np.mean(tick_times):.2f} ms, "
          f"p99 {1000 * np.percentile(tick_times, 99):.2f} ms, "
          f"max {1000 * max(tick_times):.2f} ms of a 20 ms budget")
    print(f"first file decodes      {sample.shape[1] / 8000:.1f} s")
    engine.close()
    if not args.folder:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
