"""1200 baud FSK modems for caller ID: Bell 202 and ITU-T V.23, with 8N1 framing.

* Bell 202 (Telcordia GR-30-CORE §3.1): mark (1) 1200 Hz, space (0) 2200 Hz.
* V.23 forward channel (ITU-T V.23 §2, used by ETSI EN 300 659-1 §5):
  mark 1300 Hz, space 2100 Hz.

Modulation is phase-continuous. Demodulation correlates the signal with mark
and space over one bit period (quadrature, so phase does not matter) and takes
the sign of the energy difference; characters are read by an asynchronous
receiver that samples each bit at its centre after a start-bit edge
(start bit 0, 8 data bits LSB first, stop bit 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from appliance.media.dsp import SAMPLE_RATE
from appliance.media.dsp.levels import sine_peak
from appliance.media.dsp.tones import to_int16


@dataclass(frozen=True)
class FskModem:
    name: str
    mark_hz: float
    space_hz: float
    baud: float = 1200.0

    @property
    def samples_per_bit(self) -> float:
        return SAMPLE_RATE / self.baud


BELL202 = FskModem("bell202", 1200.0, 2200.0)
V23 = FskModem("v23", 1300.0, 2100.0)


def uart_bits(data: bytes, stop_bits: int = 1) -> npt.NDArray[np.uint8]:
    """8N1 bit stream: start 0, data LSB first, ``stop_bits`` ones, per byte."""
    octets = np.frombuffer(data, np.uint8)[:, None]
    data_bits = (octets >> np.arange(8, dtype=np.uint8)) & 1
    frame = np.concatenate(
        [
            np.zeros((len(octets), 1), np.uint8),
            data_bits,
            np.ones((len(octets), stop_bits), np.uint8),
        ],
        axis=1,
    )
    return frame.reshape(-1)


def fsk_modulate(
    bits: npt.ArrayLike, modem: FskModem, dbm0: float = -13.0
) -> npt.NDArray[np.int16]:
    """Phase-continuous FSK of ``bits`` (1 = mark) at ``dbm0``."""
    bit_array = np.asarray(bits, np.uint8)
    n = math.ceil(len(bit_array) * modem.samples_per_bit)
    which = np.minimum((np.arange(n) / modem.samples_per_bit).astype(np.intp), len(bit_array) - 1)
    freq = np.where(bit_array[which] == 1, modem.mark_hz, modem.space_hz)
    phase = np.cumsum(2 * math.pi * freq / SAMPLE_RATE)
    return to_int16(sine_peak(dbm0) * np.sin(phase))


def fsk_discriminate(samples: npt.NDArray[np.int16], modem: FskModem) -> npt.NDArray[np.float64]:
    """Per-sample soft decision: > 0 mark, < 0 space, ~0 no carrier (normalised)."""
    x = samples.astype(np.float64)
    n = np.arange(len(x))
    length = round(modem.samples_per_bit)
    out = []
    for freq in (modem.mark_hz, modem.space_hz):
        z = x * np.exp(-2j * math.pi * freq * n / SAMPLE_RATE)
        c = np.concatenate([[0], np.cumsum(z)])
        s = c[length:] - c[:-length]  # correlation over the bit ending at each sample
        out.append(np.abs(s) ** 2)
    mark, space = out
    decision = (mark - space) / (mark + space + 1e-9)
    # align: the value at index i describes samples i .. i+length-1; centre it
    pad = length // 2
    return np.concatenate([np.zeros(pad), decision, np.zeros(length - 1 - pad)])


def carrier_present(
    samples: npt.NDArray[np.int16], modem: FskModem, min_dbm0: float = -40.0
) -> bool:
    """True when the burst is loud enough to be worth demodulating."""
    power = float(np.mean(samples.astype(np.float64) ** 2)) if len(samples) else 0.0
    return power >= sine_peak(min_dbm0) ** 2 / 2


@dataclass(frozen=True)
class UartChar:
    value: int
    start_sample: int
    framing_ok: bool


def uart_decode(
    decision: npt.NDArray[np.float64],
    modem: FskModem,
    start: int = 0,
    max_chars: int | None = None,
    max_gap_bits: float | None = None,
) -> list[UartChar]:
    """Read 8N1 characters from a soft-decision stream, from sample ``start``.

    A character begins at a mark-to-space edge; each bit is taken at its centre.
    Reading stops after ``max_chars`` or when no start bit follows within
    ``max_gap_bits`` bit times of the last stop bit.
    """
    spb = modem.samples_per_bit
    hard = decision > 0
    chars: list[UartChar] = []
    i = max(start, 1)
    last_end = start
    while i < len(hard) - int(10 * spb):
        if max_chars is not None and len(chars) >= max_chars:
            break
        if max_gap_bits is not None and chars and i - last_end > max_gap_bits * spb:
            break
        if hard[i - 1] and not hard[i]:
            # Each bit: mean soft decision over the 3 samples round its centre.
            centres = (i + (np.arange(10) + 0.5) * spb).astype(np.intp)
            bits = (decision[centres - 1] + decision[centres] + decision[centres + 1]) > 0
            if bits[0]:  # glitch, not a start bit
                i += 1
                continue
            value = int(np.sum(bits[1:9].astype(np.int64) << np.arange(8)))
            chars.append(UartChar(value, i, bool(bits[9])))
            i = int(i + 9.5 * spb)  # resume in the middle of the stop bit
            last_end = i
        else:
            i += 1
    return chars
