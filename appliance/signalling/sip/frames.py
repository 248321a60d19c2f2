"""A SIP leg's 20 ms frames between pjmedia's clock thread and the media engine's tick.

pjsua2 hands each frame over as a ``ByteVector`` (a SWIG ``std::vector<uint8_t>``);
turning one of 320 bytes into Python ``bytes`` element by element costs about
250 us, which at 50 frames a second per leg would take a core for 80 legs.
:func:`vector_bytes` and :func:`fill_vector` instead read and write the vector's
storage directly (its ``begin``/``end`` pointers, the libstdc++ layout), about
2 us each; :func:`check_vector_layout` proves the layout once at start-up
against the slow path, and the slow path is used if it ever differs.

:class:`FrameQueues` is the hand-over itself: a short queue each way, filled on
one thread and emptied on the other (``deque`` appends and pops are atomic).
"""

from __future__ import annotations

import ctypes
import logging
from collections import deque
from typing import Any

import numpy as np
import numpy.typing as npt

from appliance.media.dsp import FRAME_SAMPLES

log = logging.getLogger("appliance.sip")

FRAME_BYTES = FRAME_SAMPLES * 2  # 16-bit linear PCM at 8 kHz, 20 ms
#: Frames held each way: enough to ride out the two clocks' phase (engine tick and
#: pjmedia's), short enough to add at most 60 ms of delay before the oldest is dropped.
QUEUE_FRAMES = 3
SILENCE = bytes(FRAME_BYTES)

_direct = True  # the vector layout was proved (check_vector_layout)


def _storage(vector: Any) -> tuple[int, int]:
    begin, end = (ctypes.c_void_p * 2).from_address(int(vector.this))
    return int(begin or 0), int(end or 0)


def vector_bytes(vector: Any) -> bytes:
    """The contents of a pjsua2 ``ByteVector``."""
    if not _direct:
        return bytes(vector)
    begin, end = _storage(vector)
    return ctypes.string_at(begin, end - begin) if end > begin else b""


def fill_vector(vector: Any, data: bytes) -> None:
    """Overwrite a ``ByteVector`` already sized ``len(data)`` with ``data``."""
    if not _direct:
        for i, value in enumerate(data):
            vector[i] = value
        return
    begin, end = _storage(vector)
    if end - begin != len(data):
        raise ValueError(f"vector holds {end - begin} bytes, not {len(data)}")
    ctypes.memmove(begin, data, len(data))


def check_vector_layout(pj: Any) -> bool:
    """Prove the direct path on a known vector; fall back to the slow one if it is wrong."""
    global _direct
    sample = bytes(range(256)) + bytes(range(64))
    probe = pj.ByteVector(sample)
    _direct = True
    try:
        ok = vector_bytes(probe) == sample
        if ok:
            fill_vector(probe, sample[::-1])
            ok = bytes(probe) == sample[::-1]
    except (ValueError, OSError):
        ok = False
    if not ok:
        log.warning("pjsua2 ByteVector layout is not libstdc++'s: SIP frames take the slow "
                    "copy (about 250 us each)")
    _direct = ok
    return ok


class FrameQueues:
    """One SIP leg's frames: ``rx`` from the phone to the engine, ``tx`` back."""

    def __init__(self) -> None:
        self.rx: deque[bytes] = deque(maxlen=QUEUE_FRAMES)
        self.tx: deque[bytes] = deque(maxlen=QUEUE_FRAMES)
        self.flowing = False  # media is up: from now on an empty rx is a missing frame
        self.rx_dropped = 0  # frames pushed out of a full rx queue (the engine fell behind)

    # -- pjmedia's clock thread ----------------------------------------------------
    def received(self, data: bytes) -> None:
        if len(data) != FRAME_BYTES:
            return  # pjmedia's frames at 8 kHz / 20 ms are always 320 bytes; never a partial
        if len(self.rx) == QUEUE_FRAMES:
            self.rx_dropped += 1
        self.rx.append(data)

    def to_send(self) -> bytes:
        try:
            return self.tx.popleft()
        except IndexError:
            return SILENCE

    # -- the media engine's tick (the event loop) ------------------------------------
    def engine_source(self) -> npt.NDArray[np.int16] | None:
        """The frame for this tick: None counts a missing frame once media flows."""
        try:
            return np.frombuffer(self.rx.popleft(), np.int16)
        except IndexError:
            return None if self.flowing else _ZEROS

    def engine_sink(self, frame: npt.NDArray[Any]) -> None:
        self.tx.append(frame.tobytes())


_ZEROS = np.zeros(FRAME_SAMPLES, np.int16)
