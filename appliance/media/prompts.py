"""Prompt files: WAV read into 8 kHz mono int16 ready to play (IVR-6).

Accepted without conversion: 8 kHz mono A-law (format 6), mu-law (format 7)
and 16-bit PCM (format 1). Converted at load: other PCM widths (8/24/32 bit),
32-bit float (format 3), WAVE_FORMAT_EXTENSIBLE carrying those, more than one
channel (averaged to mono) and other sample rates (windowed-sinc resampling).
Anything else (ADPCM, GSM, MP3 in WAV, ...) raises :class:`PromptError` naming
the file, the format and the sox command that converts it.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from appliance.media.dsp import SAMPLE_RATE
from drivers.span import g711

_FORMATS = {1: "PCM", 3: "IEEE float", 6: "A-law", 7: "mu-law", 0xFFFE: "extensible"}
_FORMAT_NAMES = {
    2: "MS ADPCM",
    0x11: "IMA ADPCM",
    0x31: "GSM 6.10",
    0x55: "MP3",
    0x40: "G.721 ADPCM",
}


class PromptError(ValueError):
    """A prompt file that cannot be played."""


@dataclass(frozen=True)
class Prompt:
    name: str
    samples: npt.NDArray[np.int16]  # 8 kHz mono linear
    source_format: str  # e.g. "A-law 8000 Hz 1 ch"
    converted: bool

    @property
    def seconds(self) -> float:
        return len(self.samples) / SAMPLE_RATE


def load_prompt(path: str | Path) -> Prompt:
    """Read a WAV prompt, converting what can be converted (see module doc)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PromptError(f"prompt {path}: cannot read ({exc.strerror})") from exc
    return parse_wav(data, str(path))


def parse_wav(data: bytes, name: str = "prompt") -> Prompt:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise PromptError(f"prompt {name}: not a RIFF/WAVE file")
    fmt: bytes | None = None
    payload: bytes | None = None
    pos = 12
    while pos + 8 <= len(data):
        chunk_id, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body = data[pos + 8 : pos + 8 + size]
        if chunk_id == b"fmt ":
            fmt = body
        elif chunk_id == b"data":
            payload = body
        pos += 8 + size + (size & 1)
    if fmt is None or len(fmt) < 16:
        raise PromptError(f"prompt {name}: no valid 'fmt ' chunk")
    if payload is None:
        raise PromptError(f"prompt {name}: no 'data' chunk")
    tag, channels, rate, _, block_align, bits = struct.unpack("<HHIIHH", fmt[:16])
    if tag == 0xFFFE and len(fmt) >= 40:
        tag = struct.unpack("<H", fmt[24:26])[0]  # sub-format GUID starts with the format tag
    fix = f"convert it with: sox {name} -r 8000 -c 1 -e a-law {Path(name).stem}-8k.wav"
    if tag not in _FORMATS or tag == 0xFFFE:
        label = _FORMAT_NAMES.get(tag, f"format 0x{tag:04X}")
        raise PromptError(f"prompt {name}: WAV encoding {label} cannot be converted; {fix}")
    if channels < 1 or rate < 1 or block_align < 1:
        raise PromptError(f"prompt {name}: header says {channels} channels at {rate} Hz")
    usable = len(payload) - len(payload) % block_align
    frames = _decode(payload[:usable], tag, bits, channels, name, fix)
    mono = frames.mean(axis=1) if channels > 1 else frames[:, 0]
    converted = not (
        tag in (1, 6, 7) and channels == 1 and rate == SAMPLE_RATE and (tag != 1 or bits == 16)
    )
    if rate != SAMPLE_RATE:
        mono = resample(mono, rate, SAMPLE_RATE)
    samples = np.clip(np.rint(mono), -32768, 32767).astype(np.int16)
    return Prompt(name, samples, f"{_FORMATS[tag]} {bits}-bit {rate} Hz {channels} ch", converted)


def _decode(
    raw: bytes, tag: int, bits: int, channels: int, name: str, fix: str
) -> npt.NDArray[np.float64]:
    if tag == 6 and bits == 8:
        flat = g711.alaw_decode(np.frombuffer(raw, np.uint8)).astype(np.float64)
    elif tag == 7 and bits == 8:
        flat = g711.ulaw_decode(np.frombuffer(raw, np.uint8)).astype(np.float64)
    elif tag == 1 and bits == 8:
        flat = (np.frombuffer(raw, np.uint8).astype(np.float64) - 128) * 256
    elif tag == 1 and bits == 16:
        flat = np.frombuffer(raw, "<i2").astype(np.float64)
    elif tag == 1 and bits == 24:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        value = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        flat = (np.where(value >= 1 << 23, value - (1 << 24), value) / 256).astype(np.float64)
    elif tag == 1 and bits == 32:
        flat = np.frombuffer(raw, "<i4").astype(np.float64) / 65536
    elif tag == 3 and bits in (32, 64):
        flat = np.frombuffer(raw, "<f4" if bits == 32 else "<f8").astype(np.float64) * 32767
    else:
        raise PromptError(
            f"prompt {name}: {_FORMATS.get(tag, tag)} with {bits}-bit samples "
            f"cannot be converted; {fix}"
        )
    return flat.reshape(-1, channels)


def resample(
    signal: npt.NDArray[np.float64], rate_in: int, rate_out: int
) -> npt.NDArray[np.float64]:
    """Band-limited resampling by a windowed-sinc (Kaiser) interpolator.

    The cut-off is 0.45 of the lower sampling rate, so nothing aliases into
    the telephone band.
    """
    if rate_in == rate_out or len(signal) == 0:
        return signal
    g = math.gcd(rate_in, rate_out)
    up, down = rate_out // g, rate_in // g
    cutoff = 0.45 / max(up, down)  # cycles per sample at the up-sampled rate
    half = 16 * max(up, down)
    taps = np.arange(-half, half + 1)
    kernel = 2 * cutoff * np.sinc(2 * cutoff * taps) * np.kaiser(len(taps), 8.0) * up
    n_out = len(signal) * up // down
    out = np.zeros(n_out)
    # polyphase: output k sits at up-sampled index k*down; gather contributing inputs
    positions = np.arange(n_out) * down
    phase = positions % up
    base = positions // up
    reach = half // up + 1
    for j in range(-reach, reach + 1):
        idx = base - j
        valid = (idx >= 0) & (idx < len(signal))
        tap = j * up + phase
        ok = valid & (np.abs(tap) <= half)
        out[ok] += signal[idx[ok]] * kernel[tap[ok] + half]
    return out
