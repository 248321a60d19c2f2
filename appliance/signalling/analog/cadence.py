"""Ring cadence validation on an FXO line.

The port reports RING_BEGIN/RING_END edges; this class times them against the
country's ring cadence (on/off pairs of one cycle, e.g. UK 400/200/400/2000)
with a relative tolerance and says what each edge means:

* a burst shorter than ``min_burst_ms`` is noise (a tinkle on line tests,
  a lightning hit) and is ignored;
* a burst or pause outside the tolerance of the expected cadence position is
  a *broken cadence*: the ringing is not a call we trust;
* a completed cycle is one *ring*; ringing that stops for longer than the
  longest pause (plus tolerance) means the caller gave up.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class RingVerdict(enum.Enum):
    NOISE = "noise"  # too short; ignored
    BURST_OK = "burst-ok"  # a burst or pause within the cadence, cycle not complete yet
    RING = "ring"  # a full ring cycle's bursts have been heard
    BROKEN = "broken-cadence"


@dataclass(frozen=True)
class RingCheck:
    verdict: RingVerdict
    detail: str = ""


class RingCadenceValidator:
    def __init__(self, cadence_ms: tuple[int, ...], tolerance: float = 0.25,
                 min_burst_ms: int = 150) -> None:
        if not cadence_ms or len(cadence_ms) % 2:
            raise ValueError(f"ring cadence must be on/off pairs, got {cadence_ms}")
        self.cadence = cadence_ms
        self.tolerance = tolerance
        self.min_burst_ms = min_burst_ms
        self.reset()

    def reset(self) -> None:
        self._pos = 0  # index into cadence of the segment we are in
        self._edge_at: float | None = None  # time of the last accepted edge
        self._last_end: float | None = None

    @property
    def heard_burst(self) -> bool:
        """True once a valid burst has been heard since :meth:`reset`."""
        return self._last_end is not None

    @property
    def longest_pause_ms(self) -> float:
        return max(self.cadence[1::2]) * (1 + self.tolerance)

    def _fits(self, measured_ms: float, expected_ms: int) -> bool:
        return abs(measured_ms - expected_ms) <= expected_ms * self.tolerance

    def ring_begin(self, now: float) -> RingCheck:
        if self._last_end is not None and self._pos % 2 == 1:
            pause = (now - self._last_end) * 1000
            expected = self.cadence[self._pos]
            if not self._fits(pause, expected):
                return RingCheck(RingVerdict.BROKEN,
                                 f"pause of {pause:.0f} ms where {expected} ms was expected")
            self._pos = (self._pos + 1) % len(self.cadence)
        self._edge_at = now
        return RingCheck(RingVerdict.BURST_OK)

    def ring_end(self, now: float) -> RingCheck:
        if self._edge_at is None:
            return RingCheck(RingVerdict.NOISE, "ring end without a ring start")
        burst = (now - self._edge_at) * 1000
        if burst < self.min_burst_ms:
            self._edge_at = None
            return RingCheck(RingVerdict.NOISE, f"burst of {burst:.0f} ms is too short")
        expected = self.cadence[self._pos]
        if not self._fits(burst, expected):
            return RingCheck(RingVerdict.BROKEN,
                             f"burst of {burst:.0f} ms where {expected} ms was expected")
        self._last_end = now
        self._edge_at = None
        self._pos = (self._pos + 1) % len(self.cadence)
        if self._pos == len(self.cadence) - 1:
            return RingCheck(RingVerdict.RING)  # last burst of the cycle heard
        return RingCheck(RingVerdict.BURST_OK)

    def silence_exceeded(self, now: float) -> bool:
        """True when ringing has stopped for longer than any pause of the cadence."""
        if self._last_end is None or self._edge_at is not None:
            return False
        return (now - self._last_end) * 1000 > self.longest_pause_ms
