"""DTMF reception at the limits of ITU-T Q.24 and DTMF generation (Q.23)."""

from __future__ import annotations

import numpy as np
import pytest

from appliance.media.dsp.dtmf import (
    DIGITS,
    DtmfDetector,
    detect_digits,
    digit_frequencies,
    dtmf_generate,
)
from appliance.media.dsp.levels import sine_power
from appliance.media.dsp.tones import sines, to_int16


def tone(
    digit: str,
    *,
    ms: int = 100,
    low_dbm0: float = -10.0,
    high_dbm0: float = -10.0,
    low_dev: float = 0.0,
    high_dev: float = 0.0,
) -> np.ndarray:
    low, high = digit_frequencies(digit)
    return sines((low * (1 + low_dev), high * (1 + high_dev)), ms * 8, [low_dbm0, high_dbm0])


def heard(signal: np.ndarray, lead_ms: int = 20) -> str:
    padded = np.concatenate([np.zeros(lead_ms * 8), signal, np.zeros(800)])
    return detect_digits(to_int16(padded))


def test_all_sixteen_digits_generated_and_detected() -> None:
    assert detect_digits(dtmf_generate(DIGITS)) == DIGITS


@pytest.mark.parametrize("dev", [0.015, -0.015])
def test_frequency_deviation_within_1_5_percent_is_accepted(dev: float) -> None:
    for digit in DIGITS:
        assert heard(tone(digit, low_dev=dev)) == digit
        assert heard(tone(digit, high_dev=dev)) == digit
        assert heard(tone(digit, low_dev=dev, high_dev=-dev)) == digit


@pytest.mark.parametrize("dev", [0.035, -0.035, 0.05, -0.05])
def test_frequency_deviation_beyond_3_5_percent_is_rejected(dev: float) -> None:
    for digit in DIGITS:
        assert heard(tone(digit, low_dev=dev)) == ""
        assert heard(tone(digit, high_dev=dev)) == ""


def test_twist_limits_normal_4_db_reverse_8_db() -> None:
    for digit in "1590D*":
        # normal twist: high group stronger
        assert heard(tone(digit, low_dbm0=-13.5, high_dbm0=-10.0)) == digit
        assert heard(tone(digit, low_dbm0=-14.5, high_dbm0=-10.0)) == ""
        # reverse twist: low group stronger
        assert heard(tone(digit, low_dbm0=-10.0, high_dbm0=-17.5)) == digit
        assert heard(tone(digit, low_dbm0=-10.0, high_dbm0=-18.5)) == ""


@pytest.mark.parametrize("level", [0.0, -5.0, -15.0, -25.0, -30.0])
def test_operating_level_range(level: float) -> None:
    assert heard(tone("8", low_dbm0=level, high_dbm0=level)) == "8"


@pytest.mark.parametrize("level", [-34.0, -45.0])
def test_too_weak_tones_are_ignored(level: float) -> None:
    assert heard(tone("8", low_dbm0=level, high_dbm0=level)) == ""


@pytest.mark.parametrize("lead_ms", [0, 3, 5, 7, 10, 13, 15, 17])
def test_40_ms_tones_with_40_ms_pauses_at_any_alignment(lead_ms: int) -> None:
    burst = dtmf_generate("11223344", on_ms=40, off_ms=40, lead_ms=lead_ms)
    assert detect_digits(burst) == "11223344"


@pytest.mark.parametrize("lead_ms", [0, 3, 5, 7, 10, 13, 15, 17])
def test_20_ms_tones_are_rejected(lead_ms: int) -> None:
    burst = dtmf_generate("1234", on_ms=20, off_ms=60, lead_ms=lead_ms)
    assert detect_digits(burst) == ""


def test_with_white_noise_at_15_db_snr() -> None:
    rng = np.random.default_rng(42)
    clean = np.concatenate([tone(d, low_dbm0=-20, high_dbm0=-20) for d in "13579"] * 1)
    gaps = np.zeros((5, 800))
    signal = np.stack([clean.reshape(5, -1), gaps], axis=1).reshape(-1)
    noise_power = 2 * sine_power(-20) / 10 ** (15 / 10)
    noisy = signal + rng.normal(0, np.sqrt(noise_power), len(signal))
    assert heard(noisy) == "13579"


def test_noise_alone_gives_no_digits() -> None:
    rng = np.random.default_rng(3)
    assert heard(rng.normal(0, 3000, 8000 * 10)) == ""


def test_single_tone_and_three_tone_chords_are_not_digits() -> None:
    low, high = digit_frequencies("5")
    assert heard(sines((low,), 800, -10)) == ""
    assert heard(sines((high,), 800, -10)) == ""
    assert heard(sines((low, high, 2500.0), 800, [-10, -10, -8])) == ""


def test_channels_are_independent_and_vectorised() -> None:
    detector = DtmfDetector(3)
    streams = np.zeros((3, 8000), np.int16)
    streams[0, :3200] = dtmf_generate("12", on_ms=100, off_ms=100)
    streams[2, 800:4000] = dtmf_generate("9#", on_ms=100, off_ms=100)
    events = []
    for t in range(50):
        events.extend(detector.process(streams[:, t * 160 : (t + 1) * 160]))
    assert [(e.channel, e.digit) for e in events if e.channel == 0] == [(0, "1"), (0, "2")]
    assert [(e.channel, e.digit) for e in events if e.channel == 2] == [(2, "9"), (2, "#")]
    assert not [e for e in events if e.channel == 1]


def test_rows_index_maps_frames_to_channel_state() -> None:
    detector = DtmfDetector(10)
    burst = dtmf_generate("4", on_ms=100, off_ms=0)
    events = []
    for frame in burst.reshape(-1, 160):
        events.extend(detector.process(frame[None, :], np.array([7])))
    assert [(e.channel, e.digit) for e in events] == [(7, "4")]
    with pytest.raises(ValueError, match=r"\(channels, 160\)"):
        detector.process(np.zeros((1, 80), np.int16))


def test_generation_levels_and_timing() -> None:
    burst = dtmf_generate("0", on_ms=100, off_ms=50, low_dbm0=-9, high_dbm0=-7)
    assert len(burst) == 1200 and not burst[800:].any()
    n = np.arange(800)

    def amplitude(freq: float) -> float:
        return float(np.abs(np.sum(burst[:800] * np.exp(-2j * np.pi * freq * n / 8000))) / 400)

    low, high = digit_frequencies("0")
    peak_low, peak_high = amplitude(low), amplitude(high)
    assert 20 * np.log10(peak_high / peak_low) == pytest.approx(2.0, abs=0.5)
    with pytest.raises(ValueError, match="not a DTMF digit"):
        dtmf_generate("1E")


@pytest.mark.parametrize("lead_ms", range(0, 20, 3))
def test_a_10_ms_break_is_not_a_pause_but_40_ms_is(lead_ms: int) -> None:
    # Q.24 §2.4: an interruption of up to 10 ms must not split a digit.
    tail = dtmf_generate("1", on_ms=100, off_ms=100)
    broken = dtmf_generate("1", on_ms=100, off_ms=10, lead_ms=lead_ms)
    assert detect_digits(np.concatenate([broken, tail])) == "1"
    paused = dtmf_generate("1", on_ms=100, off_ms=40, lead_ms=lead_ms)
    assert detect_digits(np.concatenate([paused, tail])) == "11"


@pytest.mark.parametrize("lead_ms", range(0, 20, 3))
def test_a_lost_frame_inside_a_digit_does_not_split_it(lead_ms: int) -> None:
    # one 20 ms frame lost and concealed with silence in the middle of a 100 ms digit
    # (a frame slip on a loaded link): the caller pressed "1" once
    first = dtmf_generate("1", on_ms=50, off_ms=20, lead_ms=lead_ms)
    rest = dtmf_generate("1", on_ms=50, off_ms=100)
    assert detect_digits(np.concatenate([first, rest, dtmf_generate("2")])) == "12"
