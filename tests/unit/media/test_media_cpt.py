"""Call-progress detection: busy/reorder cadence, fax CNG/CED, silence."""

from __future__ import annotations

import numpy as np
import pytest

from appliance.media.dsp.cpt import CallProgressDetector, CptProfile
from appliance.media.dsp.tones import parse_tone, render_cycle, sines, to_int16

US = CptProfile(tone_hz=(480.0, 620.0), busy_ms=(500, 500), reorder_ms=(250, 250))
ITU = CptProfile(tone_hz=(425.0,), busy_ms=(500, 500), reorder_ms=(250, 250))


def run(profile: CptProfile, signal: np.ndarray) -> list[tuple[int, str]]:
    detector = CallProgressDetector(1, profile)
    n = len(signal) // 160 * 160
    events: list[tuple[int, str]] = []
    for t, frame in enumerate(signal[:n].reshape(-1, 160)):
        events.extend((t, e.tone) for e in detector.process(frame[None, :]))
    return events


def cadence(
    freqs: tuple[float, ...], on_ms: int, off_ms: int, seconds: float, dbm0: float = -20
) -> np.ndarray:
    cycle = np.concatenate([sines(freqs, on_ms * 8, dbm0), np.zeros(off_ms * 8)])
    reps = int(np.ceil(seconds * 8000 / len(cycle)))
    return to_int16(np.tile(cycle, reps))


def test_cn_busy_and_congestion_from_the_tone_plan() -> None:
    busy = np.tile(render_cycle(parse_tone("450/350,0/350"), -20), 5)
    events = run(CptProfile(), busy)
    assert [tone for _, tone in events] == ["busy"]
    assert events[0][0] * 20 <= 2 * 700 + 400  # two cycles and a bit
    congestion = np.tile(render_cycle(parse_tone("450/700,0/700"), -20), 4)
    assert [tone for _, tone in run(CptProfile(), congestion)] == ["reorder"]


def test_us_busy_and_reorder_are_told_apart() -> None:
    assert [t for _, t in run(US, cadence((480, 620), 500, 500, 5))] == ["busy"]
    assert [t for _, t in run(US, cadence((480, 620), 250, 250, 3))] == ["reorder"]


@pytest.mark.parametrize("scale", [0.9, 1.1])
def test_cadence_within_10_percent_is_busy(scale: float) -> None:
    on = int(500 * scale)
    assert [t for _, t in run(ITU, cadence((425,), on, on, 6))] == ["busy"]


@pytest.mark.parametrize("scale", [0.6, 1.4])
def test_cadence_40_percent_off_is_not_busy(scale: float) -> None:
    on = int(500 * scale)
    assert "busy" not in [t for _, t in run(ITU, cadence((425,), on, on, 6))]


def test_wrong_frequency_or_continuous_tone_is_not_busy() -> None:
    assert run(CptProfile(), cadence((1000,), 350, 350, 5)) == []
    assert [t for _, t in run(CptProfile(), to_int16(sines((450,), 8000 * 4, -20)))] == []


def test_too_weak_busy_tone_is_ignored() -> None:
    assert run(CptProfile(), cadence((450,), 350, 350, 5, dbm0=-45)) == []


def test_fax_cng_and_ced() -> None:
    cng = cadence((1100,), 500, 3000, 4, dbm0=-15)
    assert [t for _, t in run(CptProfile(), cng)] == ["cng", "cng"]
    short = cadence((1100,), 300, 3000, 4, dbm0=-15)  # T.30 CNG is 0.5 s; 0.3 s is not CNG
    assert run(CptProfile(), short) == []
    ced = to_int16(sines((2100,), 8000 * 3, -15))
    events = run(CptProfile(), ced)
    assert [t for _, t in events] == ["ced"] and events[0][0] == 24  # after 500 ms


def test_silence_after_five_seconds_and_re_armed_by_sound() -> None:
    rng = np.random.default_rng(1)
    quiet = to_int16(rng.normal(0, 3, 8000 * 6))  # about -75 dBm0 of line noise
    talk = to_int16(rng.normal(0, 3000, 8000))
    events = run(CptProfile(), np.concatenate([quiet, talk, quiet]))
    assert events == [(249, "silence"), (599, "silence")]


def test_speech_like_noise_gives_no_call_progress_events() -> None:
    rng = np.random.default_rng(5)
    bursts = [rng.normal(0, 4000, 8 * ms) for ms in rng.integers(100, 600, 30)]
    gaps = [np.zeros(8 * ms) for ms in rng.integers(100, 600, 30)]
    speechy = to_int16(np.concatenate([x for pair in zip(bursts, gaps, strict=True) for x in pair]))
    assert run(CptProfile(), speechy) == []


def test_reset_forgets_cadence() -> None:
    detector = CallProgressDetector(2)
    busy = np.tile(render_cycle(parse_tone("450/350,0/350"), -20), 6)
    frames = busy[: len(busy) // 160 * 160].reshape(-1, 160)
    heard: dict[int, int] = {}
    for t, frame in enumerate(frames):
        if t == 40:
            detector.reset([0])  # a new call on channel 0
        for event in detector.process(np.stack([frame, frame])):
            heard.setdefault(event.channel, t)
    assert heard[1] < 75 <= 40 + 70 <= heard[0]
