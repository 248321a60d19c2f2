"""DTMF generation and detection (ITU-T Q.23 frequencies, Q.24 reception).

Detection runs for N channels at once on 20 ms ticks (``(N, 160)`` int16).

Method: each channel keeps the last 120 samples of the previous tick, giving a
280-sample buffer per tick. Six Hann-windowed 80-sample blocks at a 40-sample
hop are correlated with the eight Q.23 frequencies (one real matrix product
for all channels). A *window* is a pair of blocks 80 samples apart, i.e. 160
samples, evaluated every 40 samples (four windows per tick). A window holds a
digit when

* the strongest row and column tones are above ``min_level_dbm0``
  (Q.24 §2: operate over the sending level range),
* twist is within ``max_normal_twist_db`` (high group stronger) and
  ``max_reverse_twist_db`` (low group stronger) (Q.24 §2.3),
* both tones are steady across the window (block power within 3 dB),
* the two tones carry at least ``min_tone_ratio`` of the window power, and
  at least ``min_narrow_ratio`` measured with one 160-sample Hann window
  whose narrow main lobe leaves out speech harmonics next to a DTMF
  frequency (talk-off; still detects at 15 dB signal-to-noise ratio),
* each tone's frequency, measured from its phase advance over 80 samples
  (unwrapped with the 40-sample advance), lies within ``max_deviation`` of
  nominal (Q.24 §2.1: operate within ±1.5 %, reject beyond ±3.5 %).

A digit is reported when the same digit holds in four consecutive windows
(280 samples = 35 ms of full tone; every 40 ms tone qualifies at any
alignment, Q.24 §2.4; a 20 ms tone never does) and the detector had seen nine
consecutive windows without it: every 40 ms pause qualifies, a 20 ms hole of
one lost frame in the middle of a digit does not split it in two.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from appliance.media.dsp import FRAME_SAMPLES, SAMPLE_RATE
from appliance.media.dsp.levels import sine_power
from appliance.media.dsp.tones import sines, to_int16

ROW_HZ = (697.0, 770.0, 852.0, 941.0)  # Q.23 Table 1, low group
COL_HZ = (1209.0, 1336.0, 1477.0, 1633.0)  # Q.23 Table 1, high group
KEYPAD = ("123A", "456B", "789C", "*0#D")
DIGITS = "".join(KEYPAD)
_DIGIT_FREQS = {KEYPAD[r][c]: (ROW_HZ[r], COL_HZ[c]) for r in range(4) for c in range(4)}

_BLOCK = 80  # samples per correlation block (Hann window)
_HOP = 40  # block and window hop
_HISTORY = 120  # samples kept from the previous tick
_WINDOWS_PER_TICK = FRAME_SAMPLES // _HOP  # 4 windows of 160 samples per tick
_SEGMENTS = (_HISTORY + FRAME_SAMPLES) // _HOP  # 7
_MIN_WINDOWS = 4  # consecutive windows holding a digit: 35 ms of tone
# consecutive windows without it: a lost 20 ms frame (a slip, a late packet concealed
# with silence) spoils at most 8, every 40 ms pause (Q.24 §2.4) at least 11
_MIN_PAUSE_WINDOWS = 9
_FREQS = np.array(ROW_HZ + COL_HZ)


def digit_frequencies(digit: str) -> tuple[float, float]:
    """(low, high) frequencies of a DTMF digit."""
    try:
        return _DIGIT_FREQS[digit.upper()]
    except KeyError:
        raise ValueError(f"{digit!r} is not a DTMF digit (0-9, *, #, A-D)") from None


def dtmf_generate(
    digits: str,
    *,
    on_ms: int = 100,
    off_ms: int = 100,
    low_dbm0: float = -9.0,
    high_dbm0: float = -7.0,
    lead_ms: int = 0,
) -> npt.NDArray[np.int16]:
    """Int16 samples for ``digits``: each tone ``on_ms``, followed by ``off_ms`` silence.

    Default levels follow common practice (Q.23 §2: high group 2 dB above low).
    """
    on = on_ms * SAMPLE_RATE // 1000
    off = off_ms * SAMPLE_RATE // 1000
    parts = [np.zeros(lead_ms * SAMPLE_RATE // 1000, np.int16)]
    for digit in digits:
        low, high = digit_frequencies(digit)
        parts.append(to_int16(sines((low, high), on, [low_dbm0, high_dbm0])))
        parts.append(np.zeros(off, np.int16))
    return np.concatenate(parts)


@dataclass(frozen=True)
class DtmfEvent:
    channel: int  # row index (or slot) the digit was heard on
    digit: str


def _basis(length: int = _BLOCK) -> tuple[npt.NDArray[np.float32], float]:
    window = np.hanning(length + 2)[1:-1]  # non-zero end points
    n = np.arange(length)[:, None]
    omega = 2 * math.pi * _FREQS[None, :] / SAMPLE_RATE
    basis = np.concatenate(
        [window[:, None] * np.cos(omega * n), -window[:, None] * np.sin(omega * n)], axis=1
    )
    return basis.astype(np.float32), float(window.sum())


class DtmfDetector:
    """Streaming DTMF receiver for ``channels`` channels (state per channel row)."""

    def __init__(
        self,
        channels: int,
        *,
        min_level_dbm0: float = -32.0,
        max_normal_twist_db: float = 4.0,
        max_reverse_twist_db: float = 8.0,
        max_deviation: float = 0.025,
        min_tone_ratio: float = 0.6,
        min_narrow_ratio: float = 0.75,
    ) -> None:
        self.min_power = sine_power(min_level_dbm0)
        self.max_normal_twist = 10 ** (max_normal_twist_db / 10)
        self.max_reverse_twist = 10 ** (max_reverse_twist_db / 10)
        self.max_deviation = max_deviation
        self.min_tone_ratio = min_tone_ratio
        self.min_narrow_ratio = min_narrow_ratio
        self._basis, wsum = _basis()
        long_basis, long_sum = _basis(2 * _BLOCK)
        self._long_scale = 2.0 / (long_sum * long_sum)
        self._split_basis = np.concatenate(
            [self._basis[:_HOP], self._basis[_HOP:]]
            + [long_basis[j * _HOP : (j + 1) * _HOP] for j in range(4)],
            axis=1,
        )
        self._power_scale = 1.0 / (
            wsum * wsum
        )  # |X|^2 -> mean square of the tone (x2 for 2 blocks)
        self._rot80 = np.exp(-2j * np.pi * _FREQS * 2 * _HOP / SAMPLE_RATE)
        self._rot40 = np.exp(-2j * np.pi * _FREQS * _HOP / SAMPLE_RATE)
        self._history = np.zeros((0, _HISTORY), np.float32)
        self._candidate = np.zeros(0, np.int8)
        self._count = np.zeros(0, np.int32)
        self.current = np.zeros(0, np.int8)  # digit index being held, -1 none
        self.resize(channels)

    @property
    def channels(self) -> int:
        return len(self.current)

    def resize(self, channels: int) -> None:
        """Grow or shrink the channel count, keeping existing channels' state."""
        old = len(self.current)
        keep = min(old, channels)

        def grown(
            array: npt.NDArray[np.generic], fill: float, shape: tuple[int, ...]
        ) -> npt.NDArray[np.generic]:
            out = np.full(shape, fill, array.dtype)
            out[:keep] = array[:keep]
            return out

        self._history = grown(self._history, 0, (channels, _HISTORY))  # type: ignore[assignment]
        self._candidate = grown(self._candidate, -1, (channels,))  # type: ignore[assignment]
        self._count = grown(self._count, 0, (channels,))  # type: ignore[assignment]
        self.current = grown(self.current, -1, (channels,))  # type: ignore[assignment]

    def reset(self, rows: npt.ArrayLike) -> None:
        """Forget the state of the given channel rows (a new call on that channel)."""
        index = np.asarray(rows, dtype=np.intp)
        self._history[index] = 0
        self._candidate[index] = -1
        self._count[index] = 0
        self.current[index] = -1

    def process(
        self, frames: npt.NDArray[np.int16], rows: npt.NDArray[np.intp] | None = None
    ) -> list[DtmfEvent]:
        """Feed one tick; ``frames[i]`` belongs to channel ``rows[i]`` (default: all in order)."""
        if frames.ndim != 2 or frames.shape[1] != FRAME_SAMPLES:
            raise ValueError(f"DTMF detector needs (channels, 160) frames, got {frames.shape}")
        index = np.arange(len(frames)) if rows is None else rows
        n = len(frames)
        if n == 0:
            return []
        buf = np.empty((n, _HISTORY + FRAME_SAMPLES), np.float32)
        buf[:, :_HISTORY] = self._history[index]
        buf[:, _HISTORY:] = frames
        self._history[index] = buf[:, FRAME_SAMPLES:]
        # Seven 40-sample segments; block k = segments k and k+1, so one matrix
        # product of all segments with both halves of the basis gives all six blocks.
        segments = buf.reshape(n, _SEGMENTS, _HOP)
        parts = (segments.reshape(-1, _HOP) @ self._split_basis).reshape(n, _SEGMENTS, 96)
        proj = parts[:, :-1, :16] + parts[:, 1:, 16:32]  # (n, 6, 16)
        spectrum = proj[..., :8] + 1j * proj[..., 8:]  # (n, 6, 8)
        # Window w = blocks w and w+2 (buf[40w : 40w+160]), block w+1 in the middle.
        w = _WINDOWS_PER_TICK
        seg_energy = np.einsum("nsk,nsk->ns", segments, segments)
        total = (
            seg_energy[:, 0:w]
            + seg_energy[:, 1 : w + 1]
            + seg_energy[:, 2 : w + 2]
            + seg_energy[:, 3 : w + 3]
        ) / (2 * _BLOCK)
        # The same windows with one 160-sample Hann window: narrow enough that
        # speech harmonics beside a DTMF frequency do not count as the tone.
        long = parts[:, 0:w, 32:48].copy()
        for j in range(1, 4):
            long += parts[:, j : j + w, 32 + 16 * j : 48 + 16 * j]
        long_power = (long[..., :8] ** 2 + long[..., 8:] ** 2) * self._long_scale
        digits = self._classify(
            long_power.reshape(-1, 8),
            spectrum[:, 0:w].reshape(-1, 8),
            spectrum[:, 1 : w + 1].reshape(-1, 8),
            spectrum[:, 2 : w + 2].reshape(-1, 8),
            total.reshape(-1),
        ).reshape(n, w)
        events: list[DtmfEvent] = []
        for k in range(w):
            events.extend(self._advance(index, digits[:, k]))
        return events

    def _classify(
        self,
        long_power: npt.NDArray[np.floating[Any]],
        a: npt.NDArray[np.complex128],
        m: npt.NDArray[np.complex128],
        b: npt.NDArray[np.complex128],
        total: npt.NDArray[np.float64],
    ) -> npt.NDArray[np.int8]:
        pa = (a.real**2 + a.imag**2) * (2 * self._power_scale)
        pb = (b.real**2 + b.imag**2) * (2 * self._power_scale)
        power = 0.5 * (pa + pb)
        rows = np.arange(len(power))
        r = np.argmax(power[:, :4], axis=1)
        c = 4 + np.argmax(power[:, 4:], axis=1)
        pr, pc = power[rows, r], power[rows, c]
        ok = (pr >= self.min_power) & (pc >= self.min_power)
        ok &= (pc <= pr * self.max_normal_twist) & (pr <= pc * self.max_reverse_twist)
        ok &= (pr + pc) >= self.min_tone_ratio * total
        ok &= (long_power[rows, r] + long_power[rows, c]) >= self.min_narrow_ratio * total
        # the stability and frequency checks only for windows that passed the power checks
        # (in speech and silence most fail them): the phase arithmetic is the costly part
        cand = np.flatnonzero(ok)
        if len(cand):
            passed = np.ones(len(cand), bool)
            for k in (r[cand], c[cand]):
                qa, qb = pa[cand, k], pb[cand, k]
                passed &= (qa >= 0.5 * qb) & (qb >= 0.5 * qa)
                # Phase advance over 80 samples gives the offset modulo 100 Hz; the
                # two 40-sample advances give it modulo 200 Hz to pick the branch.
                ak, mk, bk = a[cand, k], m[cand, k], b[cand, k]
                fine = np.angle(bk * np.conj(ak) * self._rot80[k])
                coarse = np.angle((mk * np.conj(ak) + bk * np.conj(mk)) * self._rot40[k])
                fine_hz = fine * SAMPLE_RATE / (2 * math.pi * 2 * _HOP)
                coarse_hz = coarse * SAMPLE_RATE / (2 * math.pi * _HOP)
                branch = np.rint((coarse_hz - fine_hz) / (SAMPLE_RATE / (2 * _HOP)))
                offset = fine_hz + branch * (SAMPLE_RATE / (2 * _HOP))
                passed &= np.abs(offset) <= self.max_deviation * _FREQS[k]
            ok[cand] = passed
        return np.where(ok, r * 4 + (c - 4), -1).astype(np.int8)

    def _advance(self, index: npt.NDArray[np.intp], digit: npt.NDArray[np.int8]) -> list[DtmfEvent]:
        same = self._candidate[index] == digit
        count = np.where(same, self._count[index] + 1, 1)
        self._candidate[index] = digit
        self._count[index] = count
        current = self.current[index]
        start = (count >= _MIN_WINDOWS) & (digit >= 0) & (digit != current)
        end = (count >= _MIN_PAUSE_WINDOWS) & (digit < 0) & (current >= 0)
        if not (start.any() or end.any()):
            return []
        current = np.where(start, digit, np.where(end, -1, current))
        self.current[index] = current
        return [DtmfEvent(int(index[i]), DIGITS[int(digit[i])]) for i in np.nonzero(start)[0]]


def detect_digits(samples: npt.NDArray[np.int16], **options: float) -> str:
    """Convenience: run one channel of samples through a detector, return the digits."""
    n = len(samples) // FRAME_SAMPLES * FRAME_SAMPLES
    padded = np.concatenate([samples[:n], np.zeros(2 * FRAME_SAMPLES, np.int16)])
    detector = DtmfDetector(1, **options)
    out: list[str] = []
    for frame in padded.reshape(-1, FRAME_SAMPLES):
        out.extend(e.digit for e in detector.process(frame[None, :]))
    return "".join(out)
