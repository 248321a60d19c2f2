"""Recording taps: audio leaves the tick through a bounded queue to a writer thread.

The tick never blocks on disk: each tick it gathers every active tap's frame
in one vectorised step and offers a single batch to a bounded queue with
``put_nowait``. When the queue is full the batch is dropped and every tap in it
counts one dropped frame. A writer thread drains the queue and hands each tap's
frames to its :class:`TapSink` (the recording area writes WAV files this way).

Stereo taps deliver ``(2, 160)`` int16 per frame: row 0 the caller's voice,
row 1 the agent's. Mixed taps deliver ``(1, 160)``: both voices summed with
saturation.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

log = logging.getLogger("appliance.media")

TapMode = Literal["stereo", "mixed"]


class TapSink(Protocol):
    """Receives a tap's audio on the writer thread, in tick order."""

    def write(self, tap: RecordingTap, pcm: npt.NDArray[np.int16]) -> None:
        """One or more frames: ``(channels, samples)`` int16 (channels 2 stereo, 1 mixed)."""
        ...

    def close(self, tap: RecordingTap) -> None:
        """The tap was stopped; no further writes follow."""
        ...


@dataclass(eq=False)
class RecordingTap:
    """An active recording of one call (caller and agent legs)."""

    tap_id: int
    mode: TapMode
    sink: TapSink
    caller_slot: int
    agent_slot: int
    frames_queued: int = 0
    frames_dropped: int = 0
    frames_written: int = 0
    closed: bool = False
    label: str = field(default="")


@dataclass
class RawTapSink:
    """Keeps everything in memory (tests, diagnostics)."""

    chunks: list[npt.NDArray[np.int16]] = field(default_factory=list)
    closed: bool = False

    def write(self, tap: RecordingTap, pcm: npt.NDArray[np.int16]) -> None:
        self.chunks.append(pcm.copy())

    def close(self, tap: RecordingTap) -> None:
        self.closed = True

    def audio(self) -> npt.NDArray[np.int16]:
        """All frames joined: ``(channels, samples)``."""
        if not self.chunks:
            return np.zeros((0, 0), np.int16)
        return np.concatenate(self.chunks, axis=1)


_Batch = tuple[tuple[RecordingTap, ...], npt.NDArray[np.int16]]
_Close = RecordingTap


class RecordingWriter:
    """The thread that drains the tap queue into the sinks."""

    def __init__(self, max_batches: int = 250) -> None:
        # 250 batches = 5 s of audio for every tap at once.
        self._queue: queue.Queue[_Batch | _Close | None] = queue.Queue(max_batches)
        self._thread: threading.Thread | None = None
        self.dropped_batches = 0

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._drain, name="media-recording", daemon=True)
            self._thread.start()

    def offer(self, taps: tuple[RecordingTap, ...], frames: npt.NDArray[np.int16]) -> bool:
        """Queue one tick for ``taps`` (``frames[i]`` is tap i's ``(2, 160)``); never blocks."""
        try:
            self._queue.put_nowait((taps, frames))
        except queue.Full:
            self.dropped_batches += 1
            for tap in taps:
                tap.frames_dropped += 1
            return False
        for tap in taps:
            tap.frames_queued += 1
        return True

    def close_tap(self, tap: RecordingTap, timeout: float = 2.0) -> None:
        """Queue the end of ``tap`` after its last frames (called from the control path)."""
        self._queue.put(tap, timeout=timeout)

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until everything queued so far is written (tests, shutdown)."""
        done = threading.Event()
        marker = _FlushMarker(done)
        self._queue.put(marker, timeout=timeout)  # type: ignore[arg-type]
        if not done.wait(timeout):
            raise TimeoutError("recording writer did not drain its queue in time")

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread is not None:
            self._queue.put(None, timeout=timeout)
            self._thread.join(timeout)
            self._thread = None

    def _drain(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if isinstance(item, _FlushMarker):
                item.done.set()
            elif isinstance(item, RecordingTap):
                self._call(item, None)
            else:
                taps, frames = item
                for i, tap in enumerate(taps):
                    pcm = frames[i] if tap.mode == "stereo" else _mix(frames[i])
                    self._call(tap, pcm)

    def _call(self, tap: RecordingTap, pcm: npt.NDArray[np.int16] | None) -> None:
        try:
            if pcm is None:
                tap.sink.close(tap)
            else:
                tap.sink.write(tap, pcm)
                tap.frames_written += 1
        except Exception:  # a faulty sink must not stop every other recording
            log.exception(
                "recording sink failed for tap %s (%s)",
                tap.tap_id,
                tap.label,
                extra={"tap": tap.tap_id},
            )


@dataclass
class _FlushMarker:
    done: threading.Event


def _mix(stereo: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
    summed = stereo.astype(np.int32).sum(axis=0, keepdims=True)
    mixed: npt.NDArray[np.int16] = np.clip(summed, -32768, 32767).astype(np.int16)
    return mixed
