"""Signal levels in dBm0 for 16-bit linear samples.

G.711 §3.2 (Tables 5/6, digital milliwatt): a sine wave at +3.14 dBm0 (A-law)
or +3.17 dBm0 (mu-law) just reaches full scale. We use +3.14 dBm0 = peak
32767 for both, so 0 dBm0 is a sine of peak 22 903 (mean square 2.62e8).
"""

from __future__ import annotations

import math

FULL_SCALE_DBM0 = 3.14
FULL_SCALE_PEAK = 32767.0


def sine_peak(dbm0: float) -> float:
    """Peak amplitude of a sine at ``dbm0``."""
    return float(FULL_SCALE_PEAK * 10.0 ** ((dbm0 - FULL_SCALE_DBM0) / 20.0))


def sine_power(dbm0: float) -> float:
    """Mean square of a sine at ``dbm0`` (the power the detectors measure)."""
    return sine_peak(dbm0) ** 2 / 2.0


def power_to_dbm0(power: float) -> float:
    """Level in dBm0 of a signal whose mean square is ``power``."""
    if power <= 0.0:
        return -math.inf
    return 10.0 * math.log10(power / sine_power(0.0))
