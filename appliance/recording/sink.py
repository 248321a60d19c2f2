"""The WAV sink behind a media recording tap: runs on the media writer thread.

Durability (docs/recording.md): audio reaches the kernel with each write, the
WAV size fields are rewritten every ``header_interval`` seconds of audio and
data plus header are forced to the disk every ``sync_interval`` seconds. A
killed process therefore loses only frames still queued in memory (the tap
queue), and a power cut at most ``sync_interval`` seconds; the start-up
recovery makes the header match the audio present.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from appliance.recording.wav import WavWriter

log = logging.getLogger("appliance.recording")

FRAME_SECONDS = 0.02


def file_checksum(path: str) -> str:
    """SHA-256 of the whole file, hex (the index and the export manifest use it)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class SinkResult:
    """What the sink reports when its file is closed."""

    path: str
    duration: float
    size: int
    checksum: str
    status: str  # 'complete', 'disk-full'
    error: str = ""


class WavSink:
    """Writes one tap's frames to a :class:`WavWriter`; pause writes silence."""

    def __init__(self, writer: WavWriter, *, header_interval: float, sync_interval: float,
                 min_free_bytes: int = 0,
                 on_closed: Callable[[SinkResult], None] | None = None,
                 on_alarm: Callable[[str, dict[str, Any]], None] | None = None) -> None:
        self.writer = writer
        self._header_every = max(1, round(header_interval / FRAME_SECONDS))
        self._sync_every = max(1, round(sync_interval / FRAME_SECONDS))
        self._min_free = min_free_bytes
        self._frames = 0
        self._received = 0  # writes seen = index of the tap frame being written
        self._toggles: list[tuple[int, bool]] = []  # (from frame, paused), in order
        self._paused_now = False
        self._lock = threading.Lock()
        self._failed = ""
        self._on_closed = on_closed
        self._on_alarm = on_alarm
        self.result: SinkResult | None = None

    @property
    def paused(self) -> bool:
        """Paused as seen from the control path (the last pause/resume asked)."""
        with self._lock:
            return self._toggles[-1][1] if self._toggles else self._paused_now

    def pause(self, from_frame: int | None = None) -> None:
        """Silence replaces audio from tap frame ``from_frame`` (default: the next one written).

        The control path passes the tap's ``frames_queued`` so the pause takes effect
        at the exact tick it was asked, although the writer thread runs behind.
        """
        self._toggle(from_frame, True)

    def resume(self, from_frame: int | None = None) -> None:
        self._toggle(from_frame, False)

    def _toggle(self, from_frame: int | None, paused: bool) -> None:
        with self._lock:
            self._toggles.append((self._received if from_frame is None else from_frame, paused))

    def _paused_for(self, frame: int) -> bool:
        with self._lock:
            while self._toggles and self._toggles[0][0] <= frame:
                self._paused_now = self._toggles.pop(0)[1]
            return self._paused_now

    @property
    def failed(self) -> str:
        return self._failed

    def write(self, tap: object, pcm: npt.NDArray[np.int16]) -> None:
        frame = self._received
        self._received += 1
        if self._failed or self.writer.closed:
            return
        if self._paused_for(frame):
            pcm = np.zeros_like(pcm)
        try:
            self.writer.write(pcm)
            self._frames += max(1, pcm.shape[-1] // 160)
            if self._frames % self._sync_every == 0:
                self.writer.sync()
                self._check_free_space()
            elif self._frames % self._header_every == 0:
                self.writer.update_header()
        except OSError as exc:
            self._fail(exc)

    def _check_free_space(self) -> None:
        if not self._min_free:
            return
        stats = os.statvfs(os.path.dirname(self.writer.path) or ".")
        if stats.f_bavail * stats.f_frsize < self._min_free:
            raise OSError(errno.ENOSPC, "free space below recording.min_free_mb")

    def _fail(self, exc: OSError) -> None:
        self._failed = "disk-full" if exc.errno == errno.ENOSPC else "write-error"
        log.error(
            "recording %s stopped: %s; the call continues unrecorded from here",
            self.writer.path, exc.strerror or exc, extra={"cause": self._failed},
        )
        try:
            self.writer.close()
        except OSError as close_exc:
            log.error("recording %s: closing after the error failed: %s", self.writer.path,
                      close_exc.strerror)
        if self._on_alarm is not None:
            self._on_alarm("recording.stopped", {"path": self.writer.path, "cause": self._failed,
                                                 "error": str(exc.strerror or exc)})

    def close(self, tap: object = None) -> None:
        """The tap ended: final header, fsync, checksum, then ``on_closed``."""
        if self.result is not None:
            return
        try:
            self.writer.close()
        except OSError as exc:
            if not self._failed:
                self._fail(exc)
        path = self.writer.path
        try:
            size = os.path.getsize(path)
            checksum = file_checksum(path)
        except OSError as exc:
            log.error("recording %s: cannot read back the closed file: %s", path, exc.strerror)
            size, checksum = 0, ""
        duration = self.writer.samples / self.writer.format.rate
        self.result = SinkResult(path, duration, size, checksum, self._failed or "complete")
        if self._on_closed is not None:
            self._on_closed(self.result)
