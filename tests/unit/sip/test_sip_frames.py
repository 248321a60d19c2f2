"""SIP frames between pjmedia's clock thread and the engine (appliance/signalling/sip/frames.py)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import appliance.signalling.sip.frames as frames
from appliance.signalling.sip.frames import (
    FRAME_BYTES,
    QUEUE_FRAMES,
    SILENCE,
    FrameQueues,
    check_vector_layout,
    fill_vector,
    vector_bytes,
)

try:
    import pjsua2
except ImportError:  # a failure, never a skip: `make setup` installs the wheel
    pjsua2 = None


@pytest.fixture
def pj() -> object:
    assert pjsua2 is not None, "pjsua2-python is missing: run `make setup`"
    return pjsua2


def test_the_direct_vector_path_reads_and_writes_what_the_slow_path_does(pj: object) -> None:
    assert check_vector_layout(pj)
    data = np.arange(160, dtype=np.int16).tobytes()
    vector = pj.ByteVector(data)  # type: ignore[attr-defined]
    assert vector_bytes(vector) == bytes(vector) == data
    fill_vector(vector, SILENCE)
    assert bytes(vector) == SILENCE
    assert vector_bytes(pj.ByteVector(b"")) == b""  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="holds 3 bytes"):
        fill_vector(pj.ByteVector(b"abc"), SILENCE)  # type: ignore[attr-defined]


def test_a_wrong_layout_falls_back_to_the_slow_copy(pj: object,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(frames, "_storage", lambda vector: (0, 0))
    assert not check_vector_layout(pj)
    data = bytes(range(200))
    vector = pj.ByteVector(bytes(200))  # type: ignore[attr-defined]
    fill_vector(vector, data)
    assert vector_bytes(vector) == bytes(vector) == data
    monkeypatch.undo()
    assert check_vector_layout(pj)


def test_before_media_flows_the_engine_gets_silence_not_a_missing_frame() -> None:
    queues = FrameQueues()
    frame = queues.engine_source()
    assert frame is not None and not frame.any()
    queues.flowing = True
    assert queues.engine_source() is None  # from now on an empty queue is a missing frame


def test_frames_pass_in_order_and_a_full_queue_drops_the_oldest() -> None:
    queues = FrameQueues()
    queues.flowing = True
    sent = [np.full(160, n, np.int16).tobytes() for n in range(QUEUE_FRAMES + 2)]
    for data in sent:
        queues.received(data)
    queues.received(b"short")  # never a partial frame
    assert queues.rx_dropped == 2
    got = [queues.engine_source() for _ in range(QUEUE_FRAMES)]
    assert [int(f[0]) for f in got if f is not None] == [2, 3, 4]
    out = np.arange(160, dtype=np.int16)
    queues.engine_sink(out)
    assert queues.to_send() == out.tobytes() and queues.to_send() == SILENCE
    assert len(SILENCE) == FRAME_BYTES


def test_one_thread_fills_while_another_empties() -> None:
    queues = FrameQueues()
    queues.flowing = True
    got: list[int] = []

    def consume() -> None:
        while len(got) < 500:
            frame = queues.engine_source()
            if frame is not None:
                got.append(int(frame[0]))

    reader = threading.Thread(target=consume)
    reader.start()
    for n in range(500):
        while len(queues.rx) == QUEUE_FRAMES:
            pass
        queues.received(np.full(160, n, np.int16).tobytes())
    reader.join(10)
    assert got == list(range(500)) and queues.rx_dropped == 0
