"""Tone descriptions and generation (dial, ringback, busy... and plain sines).

A tone is written as in Asterisk's indications: comma-separated segments
``F1[+F2...][/MS]``; ``0/MS`` is silence; a segment without ``/MS`` lasts for
ever. The whole sequence repeats. Examples (ITU-T E.180 §2 and national plans)::

    "450"                              continuous dial tone (CN)
    "450/350,0/350"                    busy, 350 ms on / 350 ms off (CN)
    "950/330,1400/330,1800/330,0/1000" special information tone (E.180 §7)
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from appliance.media.dsp import SAMPLE_RATE
from appliance.media.dsp.levels import sine_peak

_SEGMENT = re.compile(r"^\s*(\d+(?:\.\d+)?(?:\s*\+\s*\d+(?:\.\d+)?)*)\s*(?:/\s*(\d+))?\s*$")


class ToneSpecError(ValueError):
    """A tone description that cannot be parsed."""


@dataclass(frozen=True)
class ToneSegment:
    frequencies: tuple[float, ...]  # empty = silence
    ms: int | None  # None = continuous


@dataclass(frozen=True)
class ToneSpec:
    segments: tuple[ToneSegment, ...]

    @property
    def continuous(self) -> bool:
        return any(seg.ms is None for seg in self.segments)

    @property
    def frequencies(self) -> tuple[float, ...]:
        found: list[float] = []
        for seg in self.segments:
            found.extend(f for f in seg.frequencies if f not in found)
        return tuple(found)

    @property
    def cadence_ms(self) -> tuple[tuple[bool, int], ...]:
        """(tone on?, duration) per segment; empty for a continuous tone."""
        if self.continuous:
            return ()
        return tuple((bool(seg.frequencies), seg.ms or 0) for seg in self.segments)


def parse_tone(text: str) -> ToneSpec:
    """Parse ``"450/350,0/350"`` style descriptions; raise ToneSpecError naming the fault."""
    if not text.strip():
        raise ToneSpecError("empty tone description")
    segments: list[ToneSegment] = []
    for part in text.split(","):
        match = _SEGMENT.match(part)
        if not match:
            raise ToneSpecError(
                f"tone segment {part.strip()!r}: expected 'F1[+F2][/MS]', e.g. '450/350'"
            )
        freqs = tuple(float(f) for f in match.group(1).split("+"))
        if any(f >= SAMPLE_RATE / 2 for f in freqs):
            raise ToneSpecError(f"tone segment {part.strip()!r}: frequency at or above 4000 Hz")
        ms = int(match.group(2)) if match.group(2) else None
        if ms is not None and ms == 0:
            raise ToneSpecError(f"tone segment {part.strip()!r}: zero duration")
        segments.append(ToneSegment(tuple(f for f in freqs if f > 0), ms))
    if any(seg.ms is None for seg in segments) and len(segments) > 1:
        raise ToneSpecError(f"{text!r}: only a single-segment tone may be continuous")
    return ToneSpec(tuple(segments))


def sines(
    frequencies: tuple[float, ...] | list[float],
    n_samples: int,
    dbm0: float | list[float] = -10.0,
    phase_samples: int = 0,
) -> npt.NDArray[np.float64]:
    """Sum of sines, each at ``dbm0`` (one level or one per frequency), as float64."""
    t = (np.arange(n_samples) + phase_samples) / SAMPLE_RATE
    levels = dbm0 if isinstance(dbm0, list) else [dbm0] * len(frequencies)
    out = np.zeros(n_samples)
    for freq, level in zip(frequencies, levels, strict=True):
        out += sine_peak(level) * np.sin(2 * math.pi * freq * t)
    return out


def to_int16(signal: npt.NDArray[np.float64]) -> npt.NDArray[np.int16]:
    """Round and saturate a float signal to int16."""
    return np.clip(np.rint(signal), -32768, 32767).astype(np.int16)


@functools.lru_cache(maxsize=64)
def render_cycle(spec: ToneSpec, dbm0: float = -10.0) -> npt.NDArray[np.int16]:
    """One full cadence cycle as int16 samples, to be played in a loop.

    Rendered once per tone and level and shared (read-only): every channel hearing
    the same ringback plays the same buffer, so the engine reads them in one pass.

    A continuous tone is rendered as one second, which loops without a phase
    jump for whole-hertz frequencies (fractional ones are rounded to 1 Hz).
    Each frequency of a multi-frequency segment is sent at ``dbm0``.
    """
    if spec.continuous:
        freqs = tuple(float(round(f)) for f in spec.segments[0].frequencies)
        cycle = to_int16(sines(freqs, SAMPLE_RATE, dbm0))
    else:
        cycle = np.concatenate([to_int16(sines(seg.frequencies,
                                               (seg.ms or 0) * SAMPLE_RATE // 1000, dbm0))
                                for seg in spec.segments])
    cycle.setflags(write=False)
    return cycle
