"""G.711 A-law and mu-law companding as vectorised table look-ups.

The product's one G.711 codec: the span drivers (E1 B-channels are A-law),
the E1 simulator, the media engine (IP legs, prompts) and recordings all use it.

The tables are built once from the segment rules of ITU-T G.711 (Tables 1a/1b
for A-law, 2a/2b for mu-law) and then applied with a single numpy gather, so a
whole tick of all channels is encoded or decoded in one operation.

Linear samples are 16-bit signed (int16). A-law works on the 13 most
significant bits and mu-law on the 14 most significant bits, as in G.711 §2.
Encoded octets are uint8 as they appear on the line, i.e. with the A-law
even-bit inversion (G.711 §3.4, Note 2) and the mu-law all-bit inversion
(G.711 §3.4) already applied.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Int16Array = npt.NDArray[np.int16]
Uint8Array = npt.NDArray[np.uint8]


def _alaw_decode_table() -> Int16Array:
    codes = np.arange(256, dtype=np.int32)
    a = codes ^ 0x55  # undo even-bit inversion (G.711 Table 1a, Note 2)
    mantissa = a & 0x0F
    segment = (a >> 4) & 0x07
    # Decision value midpoint in 13-bit units, scaled to 16 bits (<< 3).
    magnitude = np.where(
        segment == 0,
        (mantissa << 4) + 8,
        ((mantissa << 4) + 0x108) << np.maximum(segment - 1, 0),
    )
    sign_positive = (a & 0x80) != 0
    return np.where(sign_positive, magnitude, -magnitude).astype(np.int16)


def _alaw_encode_table() -> Uint8Array:
    linear = np.arange(-32768, 32768, dtype=np.int32) >> 3  # 13-bit, G.711 §2
    positive = linear >= 0
    magnitude = np.where(positive, linear, -linear - 1)
    magnitude = np.minimum(magnitude, 0x0FFF)
    # Segment = position of the highest set bit above the 5-bit first segment.
    segment = np.zeros_like(magnitude)
    for seg in range(1, 8):
        segment[magnitude >= (16 << seg)] = seg
    mantissa = np.where(segment == 0, magnitude >> 1, magnitude >> segment) & 0x0F
    code = (segment << 4) | mantissa
    code = np.where(positive, code | 0x80, code) ^ 0x55
    table = np.empty(65536, dtype=np.uint8)
    # Index the table by the uint16 view of the int16 sample.
    table[np.arange(-32768, 32768, dtype=np.int32) & 0xFFFF] = code.astype(np.uint8)
    return table


_ULAW_BIAS = 0x21  # 33 in 14-bit units (G.711 §3.2, bias 0x84 >> 2)
_ULAW_CLIP = 8159  # 14-bit magnitude above which the top code is used


def _ulaw_decode_table() -> Int16Array:
    codes = np.arange(256, dtype=np.int32)
    u = ~codes & 0xFF  # undo the all-bit inversion (G.711 Table 2a)
    mantissa = u & 0x0F
    segment = (u >> 4) & 0x07
    magnitude = (((mantissa << 3) + 0x84) << segment) - 0x84
    return np.where((u & 0x80) != 0, -magnitude, magnitude).astype(np.int16)


def _ulaw_encode_table() -> Uint8Array:
    samples = np.arange(-32768, 32768, dtype=np.int32)
    linear = samples >> 2  # 14-bit, G.711 §2
    negative = linear < 0
    magnitude = np.minimum(np.where(negative, -linear, linear), _ULAW_CLIP) + _ULAW_BIAS
    segment = np.zeros_like(magnitude)
    for seg in range(1, 8):
        segment[magnitude >= (0x40 << (seg - 1))] = seg
    mantissa = (magnitude >> (segment + 1)) & 0x0F
    code = (segment << 4) | mantissa
    code = np.where(magnitude >= 0x2000, 0x7F, code)  # beyond the last segment: top code
    code = np.where(negative, code ^ 0x7F, code ^ 0xFF)
    table = np.empty(65536, dtype=np.uint8)
    table[samples & 0xFFFF] = code.astype(np.uint8)
    return table


ALAW_DECODE: Int16Array = _alaw_decode_table()
ALAW_ENCODE: Uint8Array = _alaw_encode_table()
ULAW_DECODE: Int16Array = _ulaw_decode_table()
ULAW_ENCODE: Uint8Array = _ulaw_encode_table()
for _table in (ALAW_DECODE, ALAW_ENCODE, ULAW_DECODE, ULAW_ENCODE):
    _table.setflags(write=False)

#: The A-law and mu-law octets for silence (decode to the smallest magnitude).
ALAW_SILENCE = 0xD5
ULAW_SILENCE = 0xFF


def _as_int16(samples: npt.ArrayLike) -> Int16Array:
    array = np.asarray(samples)
    if array.dtype != np.int16:
        raise TypeError(f"G.711 encode needs int16 linear samples, got {array.dtype}")
    return array


def _as_uint8(codes: bytes | npt.ArrayLike) -> Uint8Array:
    if isinstance(codes, bytes | bytearray | memoryview):
        return np.frombuffer(codes, dtype=np.uint8)
    array = np.asarray(codes)
    if array.dtype != np.uint8:
        raise TypeError(f"G.711 decode needs uint8 octets, got {array.dtype}")
    return array


def alaw_encode(samples: npt.ArrayLike) -> Uint8Array:
    """Encode int16 linear samples (any shape) to A-law octets."""
    return ALAW_ENCODE[_as_int16(samples).view(np.uint16)]


def alaw_decode(codes: bytes | npt.ArrayLike) -> Int16Array:
    """Decode A-law octets (bytes or a uint8 array of any shape) to int16 linear samples."""
    return ALAW_DECODE[_as_uint8(codes)]


def ulaw_encode(samples: npt.ArrayLike) -> Uint8Array:
    """Encode int16 linear samples (any shape) to mu-law octets."""
    return ULAW_ENCODE[_as_int16(samples).view(np.uint16)]


def ulaw_decode(codes: bytes | npt.ArrayLike) -> Int16Array:
    """Decode mu-law octets (any shape) to int16 linear samples."""
    return ULAW_DECODE[_as_uint8(codes)]


def alaw_to_ulaw(codes: npt.ArrayLike) -> Uint8Array:
    """Transcode A-law octets to mu-law (through linear, as G.711 §4 permits)."""
    return ulaw_encode(alaw_decode(codes))


def ulaw_to_alaw(codes: npt.ArrayLike) -> Uint8Array:
    """Transcode mu-law octets to A-law."""
    return alaw_encode(ulaw_decode(codes))
