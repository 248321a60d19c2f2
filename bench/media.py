"""Media engine benchmark: CPU per 20 ms tick for 30/120/240/480 channels.

All channels full duplex, bridged in pairs, all DTMF-scanned, every pair
recorded (stereo tap into a raw consumer on the writer thread). Reports the
median and p99 tick CPU time, the ratio to the 20 ms budget, channels per core
at 50 % load, whole-process CPU (tick + recording writer), and the ratio against
a straightforward per-channel Python loop doing the same work.

Run: .venv/bin/python bench/media.py [--ticks N]
"""

from __future__ import annotations

import argparse
import math
import queue
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

# isort: off
# One BLAS thread (set by the appliance package before numpy loads): the figures are
# per core, and thread_time() must see all the work.
import appliance  # noqa: F401
# isort: on
import numpy as np

from appliance.media.dsp.dtmf import DtmfDetector, dtmf_generate
from appliance.media.engine import MediaEngine
from appliance.media.recording import RecordingTap
from drivers.span import g711

BUDGET = 0.020


class CountingSink:
    def __init__(self) -> None:
        self.frames = 0

    def write(self, tap: RecordingTap, pcm: np.ndarray) -> None:
        self.frames += 1

    def close(self, tap: RecordingTap) -> None:
        pass


def input_pool(n_frames: int = 500, seed: int = 1) -> np.ndarray:
    """A-law frames: speech-like noise bursts with some DTMF in them."""
    rng = np.random.default_rng(seed)
    speech = rng.normal(0, 2500, n_frames * 160) * (rng.random(n_frames).repeat(160) > 0.4)
    digits = dtmf_generate("1234567890", on_ms=80, off_ms=120)
    speech[: len(digits)] += digits
    linear = np.clip(speech, -32768, 32767).astype(np.int16).reshape(n_frames, 160)
    return g711.alaw_encode(linear)


def bench_engine(channels: int, ticks: int, pool: np.ndarray) -> dict[str, float]:
    engine = MediaEngine(channels)
    group = engine.register_group([f"b{i}" for i in range(channels)], law="alaw")
    sink = CountingSink()
    for i in range(0, channels, 2):
        a, b = group.handles[i], group.handles[i + 1]
        engine.bridge(a, b)
        engine.enable_dtmf(a)
        engine.enable_dtmf(b)
        engine.tap(a, b, sink)
    offsets = np.arange(channels) * 7 % len(pool)
    cpu: list[float] = []
    proc_start = time.process_time()
    wall_start = time.perf_counter()
    for t in range(ticks):
        block = pool[(offsets + t) % len(pool)]
        started = time.thread_time()
        group.write_block(block)
        engine.tick()
        group.read_block()
        cpu.append(time.thread_time() - started)
    engine.writer.flush()
    proc_cpu = time.process_time() - proc_start
    wall = time.perf_counter() - wall_start
    dropped = engine.stats.recording_dropped
    engine.close()
    arr = np.array(cpu[10:])
    return {
        "median": float(np.median(arr)),
        "p99": float(np.percentile(arr, 99)),
        "process_per_tick": proc_cpu / ticks,
        "wall_per_tick": wall / ticks,
        "dropped": dropped,
        "written": sink.frames,
    }


def bench_playback(listeners: int, ticks: int) -> tuple[float, float, float]:
    """Callers waiting in a queue: half hear one music-on-hold file (looped), half one
    prompt started a tick apart; per tick: the engine's playback cost (tick with the
    players minus tick without), and a per-listener read loop (the pre-issue-14 way)
    for the same frames, both in seconds, and the tick without players."""
    moh = (np.sin(np.arange(10 * 8000) / 8) * 3000).astype(np.int16)
    prompt = (np.sin(np.arange(3 * 8000) / 5) * 3000).astype(np.int16)

    def tick_cost(play: bool) -> float:
        engine = MediaEngine(listeners)
        handles = [engine.register(f"q{i}") for i in range(listeners)]
        cpu: list[float] = []
        for t in range(ticks):
            if play and t < listeners // 2:  # the prompt listeners join one a tick
                engine.play_samples(handles[listeners // 2 + t], prompt, tag="welcome",
                                    loop=True)
            if play and t == 0:
                for handle in handles[: listeners // 2]:
                    engine.play_samples(handle, moh, tag="moh", loop=True)
            started = time.thread_time()
            engine.tick()
            cpu.append(time.thread_time() - started)
        engine.close()
        return float(np.median(cpu[listeners:]))

    frame = np.arange(160)
    positions = np.arange(listeners) * 160
    started = time.thread_time()
    for _ in range(ticks):
        for i in range(listeners):  # one modulo gather per listener and tick
            samples = moh if i < listeners // 2 else prompt
            _ = samples[(positions[i] + frame) % len(samples)]
            positions[i] += 160
    per_listener = (time.thread_time() - started) / ticks
    idle = tick_cost(False)
    return tick_cost(True) - idle, per_listener, idle


def bench_per_channel_loop(channels: int, ticks: int, pool: np.ndarray) -> float:
    """The same work one channel at a time: decode, DTMF, cross-connect, tap, encode."""
    detectors = [DtmfDetector(1) for _ in range(channels)]
    taps: queue.Queue[tuple[int, np.ndarray, np.ndarray]] = queue.Queue()
    offsets = np.arange(channels) * 7 % len(pool)
    cpu = []
    for t in range(ticks):
        started = time.thread_time()
        linear = [g711.alaw_decode(pool[(offsets[c] + t) % len(pool)]) for c in range(channels)]
        for c in range(channels):
            detectors[c].process(linear[c][None, :])
        outputs = [g711.alaw_encode(linear[c ^ 1]) for c in range(channels)]
        for c in range(0, channels, 2):
            taps.put((c, linear[c], linear[c + 1]))
        while not taps.empty():
            taps.get_nowait()
        del outputs
        cpu.append(time.thread_time() - started)
    return float(np.median(cpu[3:]))


def goertzel_per_sample(frame: list[int], coeffs: list[float]) -> list[float]:
    """The textbook one-sample-at-a-time Goertzel, in pure Python."""
    powers = []
    for coeff in coeffs:
        s1 = s2 = 0.0
        for x in frame:
            s0 = x + coeff * s1 - s2
            s2, s1 = s1, s0
        powers.append(s1 * s1 + s2 * s2 - coeff * s1 * s2)
    return powers


def bench_per_sample(channels: int, ticks: int, pool: np.ndarray) -> float:
    coeffs = [
        2 * math.cos(2 * math.pi * f / 8000) for f in (697, 770, 852, 941, 1209, 1336, 1477, 1633)
    ]
    frames = [g711.alaw_decode(pool[i]).tolist() for i in range(channels)]
    started = time.thread_time()
    for _ in range(ticks):
        for c in range(channels):
            goertzel_per_sample(frames[c], coeffs)
    return (time.thread_time() - started) / ticks


TALK = (
    "Thank you for calling customer service. Your account number is one two three four five six "
    "seven eight nine zero, and your balance is four hundred and twelve dollars. Press one for "
    "sales, two for technical support, three for billing, or stay on the line for an operator. "
    "Whistling, singing, laughing and shouting: la la la, ooh, aah, mmm, hello hello! "
    "你好，欢迎致电客户服务中心。查询余额请按一，人工服务请按零。 Bonjour, merci de votre appel. "
    "Guten Tag, bitte warten Sie. Buenos días, gracias por llamar."
)


def talk_off(gains: tuple[float, ...] = (0.5, 1.0, 2.0)) -> tuple[float, int] | None:
    """Speech from espeak-ng (several voices, pitches, speeds) through the DTMF detector.

    Returns (hours of speech, false digits) or None when espeak-ng is missing.
    """
    if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
        return None
    clips = []
    with tempfile.TemporaryDirectory() as tmp:
        for voice in ("en", "en-us", "cmn", "de", "fr", "es"):
            for pitch in ("10", "50", "90"):
                for speed in ("130", "190"):
                    wav = Path(tmp) / f"{voice}-{pitch}-{speed}.wav"
                    subprocess.run(
                        ["espeak-ng", "-v", voice, "-p", pitch, "-s", speed, "-w", str(wav), TALK],
                        check=True,
                        capture_output=True,
                    )
                    raw = subprocess.run(
                        [
                            "sox",
                            str(wav),
                            "-t",
                            "raw",
                            "-r",
                            "8000",
                            "-e",
                            "signed",
                            "-b",
                            "16",
                            "-c",
                            "1",
                            "-",
                        ],
                        check=True,
                        capture_output=True,
                    ).stdout
                    clips.append(np.frombuffer(raw, np.int16))
    length = max(len(c) for c in clips) // 160 * 160 + 160
    speech = np.zeros((len(clips), length))
    for i, clip in enumerate(clips):
        speech[i, : len(clip)] = clip
    false_digits = 0
    seconds = 0.0
    for gain in gains:
        scaled = np.clip(speech * gain, -32768, 32767).astype(np.int16)
        detector = DtmfDetector(len(clips))
        for t in range(length // 160):
            false_digits += len(detector.process(scaled[:, t * 160 : (t + 1) * 160]))
        seconds += sum(len(c) for c in clips) / 8000
    return seconds / 3600, false_digits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--ticks", type=int, default=1500, help="ticks per size (default 1500 = 30 s)"
    )
    args = parser.parse_args()
    pool = input_pool()
    print("Media engine, per 20 ms tick: bridged pairs, DTMF on every channel, every pair recorded")
    print(
        f"{'chans':>5} {'median ms':>9} {'p99 ms':>7} {'budget':>7} {'ch/core@50%':>11} "
        f"{'proc ms':>7} {'loop ms':>8} {'speed-up':>8} {'drops':>5}"
    )
    for channels in (30, 120, 240, 480):
        result = bench_engine(channels, args.ticks, pool)
        loop = bench_per_channel_loop(channels, max(30, args.ticks // 20), pool)
        per_channel = result["median"] / channels
        per_core = int(0.5 * BUDGET / per_channel)
        print(
            f"{channels:5d} {result['median'] * 1e3:9.3f} {result['p99'] * 1e3:7.3f} "
            f"{result['median'] / BUDGET:7.1%} {per_core:11d} "
            f"{result['process_per_tick'] * 1e3:7.3f} "
            f"{loop * 1e3:8.2f} {loop / result['median']:7.1f}x {int(result['dropped']):5d}"
        )
    print("Playback to callers waiting in a queue (half music on hold, half one prompt)")
    print(f"{'callers':>7} {'players ms':>10} {'per caller us':>13} {'per-caller loop ms':>18} "
          f"{'speed-up':>8}")
    for listeners in (30, 90, 180):
        players, loop, _idle = bench_playback(listeners, max(400, args.ticks // 3))
        print(f"{listeners:7d} {players * 1e3:10.3f} {players / listeners * 1e6:13.2f} "
              f"{loop * 1e3:18.3f} {loop / max(players, 1e-9):7.1f}x")
    sample = bench_per_sample(30, 5, pool)
    per_core = int(0.5 * BUDGET / (sample / 30))
    print(
        "pure-Python per-sample Goertzel (DTMF bins only), 30 channels: "
        f"{sample * 1e3:.1f} ms/tick = {sample / BUDGET:.0%} of the budget, "
        f"~{per_core} channels per core"
    )
    speech = talk_off()
    if speech is None:
        print("talk-off: espeak-ng or sox not installed, skipped")
    else:
        hours, false_digits = speech
        print(
            f"talk-off: {hours * 60:.1f} min of espeak-ng speech (6 voices x 3 pitches x 2 speeds "
            f"x 3 levels): {false_digits} false digits = {false_digits / hours:.1f} per hour"
        )


if __name__ == "__main__":
    main()
