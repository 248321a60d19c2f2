"""WAV files that stay playable when the writer dies (docs/recording.md "Durability").

RIFF/WAVE layout per the Microsoft "Multimedia Programming Interface and Data
Specifications 1.0" (RIFF §3, WAVE fmt chunk §3-2): ``RIFF`` size ``WAVE``,
a ``fmt `` chunk, for non-PCM formats a ``fact`` chunk (sample count), then
the ``data`` chunk. The header is written first with the sizes of what is on
disk, audio is appended with unbuffered ``os.write`` and the size fields are
rewritten in place (``os.pwrite``) as the file grows, so a reader always finds
a valid file; :func:`repair` brings the sizes up to the bytes actually present
after a crash.

Formats: 16-bit linear PCM (``WAVE_FORMAT_PCM`` = 1) or G.711 A-law
(``WAVE_FORMAT_ALAW`` = 6, 8 bits), 8000 Hz, mono or stereo (caller left,
agent right).
"""

from __future__ import annotations

import logging
import os
import struct
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from drivers.span.g711 import alaw_decode, alaw_encode

log = logging.getLogger("appliance.recording")

Encoding = Literal["pcm16", "alaw"]
SAMPLE_RATE = 8000
WAVE_FORMAT_PCM = 1
WAVE_FORMAT_ALAW = 6
_FORMAT_TAGS = {WAVE_FORMAT_PCM: "pcm16", WAVE_FORMAT_ALAW: "alaw"}


class WavError(ValueError):
    """A WAV file is missing, truncated or not one this appliance writes."""


@dataclass(frozen=True)
class WavFormat:
    channels: int
    encoding: Encoding
    rate: int = SAMPLE_RATE

    @property
    def sample_bytes(self) -> int:
        return 2 if self.encoding == "pcm16" else 1

    @property
    def block_align(self) -> int:
        return self.channels * self.sample_bytes

    @property
    def header_bytes(self) -> int:
        # RIFF 12 + fmt (8+16 PCM, 8+18 with cbSize otherwise) + fact (8+4) + data header 8
        return 44 if self.encoding == "pcm16" else 58

    def header(self, data_bytes: int) -> bytes:
        """The complete header for ``data_bytes`` of audio."""
        riff_size = self.header_bytes - 8 + data_bytes + (data_bytes & 1)
        byte_rate = self.rate * self.block_align
        bits = 8 * self.sample_bytes
        if self.encoding == "pcm16":
            fmt = struct.pack("<4sIHHIIHH", b"fmt ", 16, WAVE_FORMAT_PCM, self.channels,
                              self.rate, byte_rate, self.block_align, bits)
            fact = b""
        else:
            fmt = struct.pack("<4sIHHIIHHH", b"fmt ", 18, WAVE_FORMAT_ALAW, self.channels,
                              self.rate, byte_rate, self.block_align, bits, 0)
            fact = struct.pack("<4sII", b"fact", 4, data_bytes // self.block_align)
        return (struct.pack("<4sI4s", b"RIFF", riff_size, b"WAVE") + fmt + fact
                + struct.pack("<4sI", b"data", data_bytes))

    def encode(self, pcm: npt.NDArray[np.int16]) -> bytes:
        """``(channels, samples)`` int16 -> interleaved file bytes."""
        if pcm.ndim != 2 or pcm.shape[0] != self.channels:
            raise WavError(f"expected ({self.channels}, N) samples, got shape {pcm.shape}")
        interleaved = np.ascontiguousarray(pcm.T).reshape(-1)
        if self.encoding == "pcm16":
            return interleaved.astype("<i2", copy=False).tobytes()
        return alaw_encode(interleaved).tobytes()

    def decode(self, data: bytes) -> npt.NDArray[np.int16]:
        """Interleaved file bytes -> ``(channels, samples)`` int16."""
        usable = len(data) - len(data) % self.block_align
        if self.encoding == "pcm16":
            flat = np.frombuffer(data[:usable], "<i2").astype(np.int16)
        else:
            flat = alaw_decode(np.frombuffer(data[:usable], np.uint8))
        return flat.reshape(-1, self.channels).T.copy()


@dataclass(frozen=True)
class WavInfo:
    path: str
    format: WavFormat
    data_offset: int  # where audio starts
    header_data_bytes: int  # what the data chunk header says
    present_data_bytes: int  # whole sample frames actually in the file

    @property
    def consistent(self) -> bool:
        return self.header_data_bytes == self.present_data_bytes

    @property
    def duration(self) -> float:
        return self.present_data_bytes / self.format.block_align / self.format.rate


def read_info(path: str) -> WavInfo:
    """Parse and check the header of ``path``; raises :class:`WavError` naming the problem."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
            size = os.fstat(handle.fileno()).st_size
    except FileNotFoundError as exc:
        raise WavError(f"{path}: recording file is missing") from exc
    except OSError as exc:
        raise WavError(f"{path}: cannot read recording: {exc.strerror}") from exc
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise WavError(f"{path}: not a WAV file (no RIFF/WAVE header; {size} bytes)")
    offset = 12
    fmt: WavFormat | None = None
    while True:
        if offset + 8 > len(head):
            raise WavError(f"{path}: truncated WAV header at byte {offset} (no data chunk)")
        chunk_id, chunk_size = struct.unpack_from("<4sI", head, offset)
        body = offset + 8
        if chunk_id == b"fmt ":
            if chunk_size < 16 or body + 16 > len(head):
                raise WavError(f"{path}: truncated fmt chunk at byte {offset}")
            tag, channels, rate, _, align, bits = struct.unpack_from("<HHIIHH", head, body)
            encoding = _FORMAT_TAGS.get(tag)
            if encoding is None or channels not in (1, 2) or rate <= 0:
                raise WavError(f"{path}: unsupported WAV format (tag {tag}, {channels} channels, "
                               f"{rate} Hz); recordings are PCM16 or A-law, mono or stereo")
            fmt = WavFormat(channels, encoding, rate)  # type: ignore[arg-type]
            if align != fmt.block_align or bits != 8 * fmt.sample_bytes:
                raise WavError(f"{path}: inconsistent fmt chunk (block align {align}, {bits} bits)")
        elif chunk_id == b"data":
            if fmt is None:
                raise WavError(f"{path}: data chunk before fmt chunk")
            present = max(0, size - body)
            present -= present % fmt.block_align
            return WavInfo(path, fmt, body, chunk_size, present)
        offset = body + chunk_size + (chunk_size & 1)


def read_audio(path: str) -> tuple[WavFormat, npt.NDArray[np.int16]]:
    """The audio present in the file (all whole frames, whatever the header claims)."""
    info = read_info(path)
    with open(path, "rb") as handle:
        handle.seek(info.data_offset)
        data = handle.read(info.present_data_bytes)
    return info.format, info.format.decode(data)


def repair(path: str) -> WavInfo:
    """Make the header's sizes match the audio present (after a crash). Idempotent.

    A trailing partial sample frame is cut off. Raises :class:`WavError` when the
    header itself is unreadable (nothing that could be played survives).
    """
    info = read_info(path)
    size = os.path.getsize(path)
    if info.consistent and size == info.data_offset + info.present_data_bytes:
        return info
    fd = os.open(path, os.O_RDWR)
    try:
        os.ftruncate(fd, info.data_offset + info.present_data_bytes)
        if info.data_offset == info.format.header_bytes:
            os.pwrite(fd, info.format.header(info.present_data_bytes), 0)
        else:  # a header with extra chunks: patch RIFF and data sizes only
            os.pwrite(fd, struct.pack("<I", info.data_offset - 8 + info.present_data_bytes), 4)
            os.pwrite(fd, struct.pack("<I", info.present_data_bytes), info.data_offset - 4)
        os.fsync(fd)
    finally:
        os.close(fd)
    return read_info(path)


class WavWriter:
    """Appends audio to a new WAV file; the header always describes what was written.

    ``write`` hands the bytes straight to the kernel (no user-space buffer), so a
    killed process loses nothing it wrote; ``update_header`` rewrites the size
    fields and ``sync`` forces data and header to the disk (power-cut durability).
    """

    def __init__(self, path: str, fmt: WavFormat) -> None:
        self.path = path
        self.format = fmt
        self.data_bytes = 0
        self._header_bytes = 0  # data size the on-disk header states
        self._fd: int | None = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        try:
            self._write_all(fmt.header(0))
        except OSError:
            os.close(self._fd)
            self._fd = None
            os.unlink(path)
            raise

    @property
    def closed(self) -> bool:
        return self._fd is None

    @property
    def samples(self) -> int:
        return self.data_bytes // self.format.block_align

    def _write_all(self, data: bytes) -> None:
        assert self._fd is not None
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]

    def write(self, pcm: npt.NDArray[np.int16]) -> None:
        """Append ``(channels, samples)`` int16 audio. Raises OSError (e.g. ENOSPC)."""
        if self._fd is None:
            raise WavError(f"{self.path}: write after close")
        data = self.format.encode(pcm)
        try:
            self._write_all(data)
        except OSError:
            self._drop_partial_frame()
            raise
        self.data_bytes += len(data)

    def _drop_partial_frame(self) -> None:
        """After a failed write, cut the file back to the last whole sample frame."""
        assert self._fd is not None
        try:
            present = os.fstat(self._fd).st_size - self.format.header_bytes
            present = max(0, present - present % self.format.block_align)
            os.ftruncate(self._fd, self.format.header_bytes + present)
            os.lseek(self._fd, 0, os.SEEK_END)
            self.data_bytes = present
        except OSError as exc:  # the disk refuses even this: repair() fixes it at start-up
            log.error("%s: cannot cut a partial frame after a write error: %s", self.path,
                      exc.strerror)

    def update_header(self) -> None:
        """Rewrite the size fields for everything written so far (one pwrite)."""
        if self._fd is None or self._header_bytes == self.data_bytes:
            return
        os.pwrite(self._fd, self.format.header(self.data_bytes), 0)
        self._header_bytes = self.data_bytes

    def sync(self) -> None:
        """Header current and everything on the disk (fdatasync)."""
        if self._fd is None:
            return
        self.update_header()
        os.fdatasync(self._fd)

    def close(self) -> None:
        """Final header and fsync; safe to call twice."""
        if self._fd is None:
            return
        try:
            self.update_header()
            os.fsync(self._fd)
        finally:
            os.close(self._fd)
            self._fd = None
