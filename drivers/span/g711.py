"""G.711 A-law companding for B-channel audio (ITU-T G.711 Table 1a / §A).

E1 carries A-law on the B-channels; the span drivers hand the media engine
linear int16 frames, so the conversion sits here, vectorised with numpy.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

ALAW_SILENCE = 0xD5  # A-law code for +0 after even-bit inversion (G.711 Table 1a)


def _build_decode_table() -> npt.NDArray[np.int16]:
    table = np.zeros(256, dtype=np.int16)
    for code in range(256):
        value = code ^ 0x55  # even bits are inverted on the line (G.711 §A.2)
        segment = (value >> 4) & 0x07
        mantissa = value & 0x0F
        if segment == 0:  # noqa: SIM108 - the two G.711 segment rules, side by side
            magnitude = (mantissa << 4) + 8
        else:
            magnitude = ((mantissa << 4) + 0x108) << (segment - 1)
        table[code] = magnitude if value & 0x80 else -magnitude
    return table


ALAW_TO_LINEAR: npt.NDArray[np.int16] = _build_decode_table()
_SEGMENT_ENDS = np.array([0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF, 0x3FFF, 0x7FFF], dtype=np.int32)


def alaw_decode(codes: bytes | npt.NDArray[np.uint8]) -> npt.NDArray[np.int16]:
    """A-law octets to linear int16 samples."""
    array = np.frombuffer(codes, dtype=np.uint8) if isinstance(codes, bytes) else codes
    return ALAW_TO_LINEAR[array]


def alaw_encode(samples: npt.NDArray[np.int16]) -> npt.NDArray[np.uint8]:
    """Linear int16 samples to A-law octets (G.711 §A, 13-bit segment encoding)."""
    pcm = samples.astype(np.int32) >> 3
    positive = pcm >= 0
    magnitude = np.where(positive, pcm, -pcm - 1)
    segment = np.searchsorted(_SEGMENT_ENDS >> 3, magnitude, side="left").astype(np.int32)
    overflow = segment >= 8
    shift = np.where(segment < 2, 1, segment)
    mantissa = (magnitude >> shift) & 0x0F
    code = np.where(overflow, 0x7F, (segment << 4) | mantissa)
    code = np.where(positive, code | 0x80, code)
    return (code ^ 0x55).astype(np.uint8)
