"""Wire format between a ``sim:`` analog port and its simulator in hil/sim.

One SOCK_SEQPACKET message per 20 ms frame, in both directions, like a
timeslot of a TDM bus that carries signalling bits beside the audio:

    offset 0  2 bytes  magic b"AN"
    offset 2  1 byte   version (1)
    offset 3  1 byte   flags (below)
    offset 4  4 bytes  frame sequence number, little-endian
    offset 8  320 bytes  160 samples, signed 16-bit little-endian, 8 kHz

The port is the clock master: it sends one frame per tick and the simulator
answers each frame it receives with one frame, so the simulator's time is
``frames received x 20 ms`` and runs as fast as the port ticks.

Flags are named by who sets them. The 'phone' side (an FXO port towards the
line simulator, a phone simulator towards an FXS port) sets ``OFF_HOOK``. The
'exchange' side (the line simulator towards an FXO port, an FXS port towards
the phone simulator) sets ``RING`` (ringing voltage present in this frame),
``BATTERY`` (loop battery applied), ``REVERSED`` (tip/ring polarity reversed)
and ``MWI`` (message-waiting lamp voltage).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from drivers.analog.base import FRAME_SAMPLES, Frame, silence

MAGIC = b"AN"
VERSION = 1
HEADER = struct.Struct("<2sBBI")
MESSAGE_SIZE = HEADER.size + FRAME_SAMPLES * 2

OFF_HOOK = 0x01
RING = 0x02
BATTERY = 0x04
REVERSED = 0x08
MWI = 0x10


class WireError(ValueError):
    """A simulator frame that does not follow this format."""


@dataclass(frozen=True)
class SimFrame:
    flags: int
    seq: int
    audio: Frame

    def has(self, flag: int) -> bool:
        return bool(self.flags & flag)


def encode(flags: int, seq: int, audio: Frame | None = None) -> bytes:
    samples = silence() if audio is None else np.asarray(audio, dtype=np.int16)
    if samples.shape != (FRAME_SAMPLES,):
        raise WireError(f"a frame carries {FRAME_SAMPLES} samples, got {samples.shape}")
    return HEADER.pack(MAGIC, VERSION, flags & 0xFF, seq & 0xFFFFFFFF) + samples.astype(
        "<i2").tobytes()


def decode(message: bytes) -> SimFrame:
    if len(message) != MESSAGE_SIZE:
        raise WireError(f"simulator frame of {len(message)} bytes; expected {MESSAGE_SIZE}")
    magic, version, flags, seq = HEADER.unpack_from(message)
    if magic != MAGIC:
        raise WireError(f"simulator frame with magic {magic!r}; expected {MAGIC!r}")
    if version != VERSION:
        raise WireError(f"simulator frame version {version}; this driver speaks {VERSION}")
    audio = np.frombuffer(message, dtype="<i2", offset=HEADER.size).astype(np.int16)
    return SimFrame(flags=flags, seq=seq, audio=audio)
