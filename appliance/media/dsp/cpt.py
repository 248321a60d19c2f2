"""Call-progress detection for N channels: busy/reorder by cadence, fax tones, silence.

Each 20 ms frame is Hann-windowed and correlated with the call-progress tone
frequencies of the line's tone plan and with 1100 Hz and 2100 Hz (one matrix
product for all channels). A frame is

* *tone on* when the plan's frequencies carry ``min_tone_ratio`` of its power
  above ``min_level_dbm0``; the on/off run lengths are matched against the busy
  and reorder cadences (ITU-T E.180 §2.3/2.4 style, ``cadence_tolerance``
  relative, at least one frame) over ``cycles`` full cycles, used by FXO
  disconnect supervision;
* *CNG* when 1100 Hz holds for ``cng_ms`` (ITU-T T.30 §5.3.1: CNG is 1100 Hz
  on for 0.5 s);
* *CED/ANS* when 2100 Hz holds for ``ced_ms`` (T.30 §5.3.2, V.25 ANS: 2.6-4 s);
* *silence* when the power stays below ``silence_dbm0`` for ``silence_ms``.

Each event is reported once, then re-armed when the condition goes away.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from appliance.media.dsp import FRAME_SAMPLES, SAMPLE_RATE
from appliance.media.dsp.levels import sine_power

FRAME_MS = 1000 * FRAME_SAMPLES // SAMPLE_RATE


@dataclass(frozen=True)
class CptProfile:
    """What to listen for; defaults are the China plan (450 Hz, YD/T 1258 style cadences)."""

    tone_hz: tuple[float, ...] = (450.0,)
    busy_ms: tuple[int, int] = (350, 350)
    reorder_ms: tuple[int, int] = (700, 700)
    cadence_tolerance: float = 0.2
    cycles: int = 2
    min_level_dbm0: float = -40.0
    min_tone_ratio: float = 0.7
    cng_ms: int = 400
    ced_ms: int = 500
    silence_dbm0: float = -50.0
    silence_ms: int = 5000


@dataclass(frozen=True)
class CptEvent:
    channel: int
    tone: str  # 'busy', 'reorder', 'cng', 'ced', 'silence'


class CallProgressDetector:
    """Streaming call-progress detector for ``channels`` channel rows."""

    def __init__(self, channels: int, profile: CptProfile | None = None) -> None:
        self.profile = p = profile or CptProfile()
        freqs = np.array([*p.tone_hz, 1100.0, 2100.0])
        self._n_plan = len(p.tone_hz)
        window = np.hanning(FRAME_SAMPLES + 2)[1:-1]
        n = np.arange(FRAME_SAMPLES)[:, None]
        omega = 2 * math.pi * freqs[None, :] / SAMPLE_RATE
        self._basis = np.concatenate(
            [window[:, None] * np.cos(omega * n), window[:, None] * np.sin(omega * n)], axis=1
        ).astype(np.float32)
        self._scale = 2.0 / float(window.sum()) ** 2
        self._min_power = sine_power(p.min_level_dbm0)
        self._silence_power = sine_power(p.silence_dbm0)
        self._on = np.zeros(channels, bool)
        self._run = np.zeros(channels, np.int32)
        self._fax = np.zeros((channels, 2), np.int32)
        self._quiet = np.zeros(channels, np.int32)
        self._intervals: list[deque[tuple[bool, int]]] = [
            deque(maxlen=2 * p.cycles) for _ in range(channels)
        ]
        self._reported: list[str | None] = [None] * channels

    def reset(self, rows: npt.ArrayLike) -> None:
        for row in np.atleast_1d(np.asarray(rows, np.intp)):
            self._on[row] = False
            self._run[row] = 0
            self._fax[row] = 0
            self._quiet[row] = 0
            self._intervals[row].clear()
            self._reported[row] = None

    def process(
        self, frames: npt.NDArray[np.int16], rows: npt.NDArray[np.intp] | None = None
    ) -> list[CptEvent]:
        """Feed one tick; ``frames[i]`` belongs to channel ``rows[i]``."""
        if frames.ndim != 2 or frames.shape[1] != FRAME_SAMPLES:
            raise ValueError(
                f"call-progress detector needs (channels, 160) frames, got {frames.shape}"
            )
        index = np.arange(len(frames)) if rows is None else rows
        if len(frames) == 0:
            return []
        x = frames.astype(np.float32)
        total = np.mean(np.square(x), axis=1)
        proj = x @ self._basis
        k = proj.shape[1] // 2
        power = (proj[:, :k] ** 2 + proj[:, k:] ** 2) * self._scale
        plan = power[:, : self._n_plan].sum(axis=1)
        p = self.profile
        on = (plan >= self._min_power) & (plan >= p.min_tone_ratio * total)
        events: list[CptEvent] = []
        # fax tones: continuous run of frames dominated by 1100 / 2100 Hz
        for j, (name, ms) in enumerate((("cng", p.cng_ms), ("ced", p.ced_ms))):
            tone = power[:, self._n_plan + j]
            present = (tone >= self._min_power) & (tone >= p.min_tone_ratio * total)
            run = np.where(present, self._fax[index, j] + 1, 0)
            self._fax[index, j] = run
            for i in np.nonzero(run == max(1, ms // FRAME_MS))[0]:
                events.append(CptEvent(int(index[i]), name))
        quiet = np.where(total < self._silence_power, self._quiet[index] + 1, 0)
        self._quiet[index] = quiet
        for i in np.nonzero(quiet == max(1, p.silence_ms // FRAME_MS))[0]:
            events.append(CptEvent(int(index[i]), "silence"))
        # cadence: handle only the channels whose on/off state flipped this frame
        previous = self._on[index]
        flipped = on != previous
        run_len = self._run[index]
        for i in np.nonzero(flipped)[0]:
            row = int(index[i])
            self._intervals[row].append((bool(previous[i]), int(run_len[i]) * FRAME_MS))
            matched = self._match(row)
            if matched is not None and self._reported[row] != matched:
                self._reported[row] = matched
                events.append(CptEvent(row, matched))
            elif matched is None:
                self._reported[row] = None
        self._run[index] = np.where(flipped, 1, run_len + 1)
        self._on[index] = on
        return events

    def _match(self, row: int) -> str | None:
        intervals = self._intervals[row]
        p = self.profile
        if len(intervals) < 2 * p.cycles:
            return None
        for name, (on_ms, off_ms) in (("busy", p.busy_ms), ("reorder", p.reorder_ms)):
            if all(self._close(ms, on_ms if is_on else off_ms) for is_on, ms in intervals):
                return name
        return None

    def _close(self, measured: int, nominal: int) -> bool:
        slack = max(self.profile.cadence_tolerance * nominal, FRAME_MS)
        return abs(measured - nominal) <= slack
