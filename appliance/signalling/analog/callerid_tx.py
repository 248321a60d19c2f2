"""Caller-ID audio for an FXS phone, built with the media engine's FSK modem and DTMF generator.

FSK burst layout (GR-30-CORE §3.1.2 for Bell 202; EN 300 659-1 §5.2.1 for V.23):
channel seizure signal of 300 alternating bits, a mark signal (180 bits Bell,
80 bits ETSI), then the message, 8N1 per byte, and a few mark bits after.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from appliance.media.dsp.dtmf import dtmf_generate
from appliance.media.dsp.fsk import BELL202, V23, fsk_modulate, uart_bits
from appliance.signalling.analog.callerid import CallerId, build_dtmf, build_mdmf

SEIZURE_BITS = 300
MARK_BITS = {"bell202": 180, "v23": 80}
DTAS_TONE = "2130+2750/100"  # EN 300 659-1 §5.3.1: dual-tone alerting signal, 100 ms


def fsk_burst(message: bytes, standard: str, dbm0: float = -13.0) -> npt.NDArray[np.int16]:
    modem = BELL202 if standard == "bell202" else V23
    seizure = np.tile(np.array([0, 1], np.uint8), SEIZURE_BITS // 2)
    mark = np.ones(MARK_BITS.get(standard, 80), np.uint8)
    tail = np.ones(8, np.uint8)
    bits = np.concatenate([seizure, mark, uart_bits(message), tail])
    return fsk_modulate(bits, modem, dbm0)


def render_callerid(cid: CallerId, standard: str) -> npt.NDArray[np.int16]:
    """The audio that presents ``cid`` to a phone: an MDMF FSK burst or DTMF digits."""
    if standard == "dtmf":
        return dtmf_generate(build_dtmf(cid), on_ms=70, off_ms=70)
    if standard in ("bell202", "v23"):
        return fsk_burst(build_mdmf(cid), standard)
    raise ValueError(f"caller ID standard {standard!r} cannot be sent")
