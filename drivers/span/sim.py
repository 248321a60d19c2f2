"""Span backend talking to the E1 simulator (hil/sim/e1.py) over UNIX sockets.

Address: ``sim:/run/appliance/sim/e1-1.sock``. The simulator listens on three
SOCK_SEQPACKET sockets derived from that path:

- ``<path>``: control, JSON messages. To the simulator: ``configure``,
  ``loopback``. From it: ``line`` events carrying alarms and counters.
- ``<path>.dchan``: one message per D-channel HDLC frame (no FCS), so message
  boundaries are frame boundaries, as on a DAHDI HDLC channel.
- ``<path>.tdm``: the 2048 kbit/s stream in 20 ms blocks: 160 G.704 frames of
  32 octets each (timeslot 0 FAS/NFAS, 16 the D-channel, B-channels A-law).

Limits (stated as python-can's virtual bus does): no bit-level line coding;
HDB3/AMI, CRC-4 and build-out are accepted and reported, and their errors are
injected by the simulator as counters and alarms rather than produced by a
waveform.
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

import numpy as np
import numpy.typing as npt

from drivers.registry import DeviceAddress
from drivers.span.base import (
    BCHANNELS,
    E1_TIMESLOTS,
    FRAME_SAMPLES,
    AudioFrames,
    Loopback,
    Span,
    SpanAlarms,
    SpanConfig,
    SpanCounters,
    SpanEvent,
)
from drivers.span.errors import SpanInitError, SpanLinkLost, SpanOperationError
from drivers.span.g711 import ALAW_SILENCE, alaw_decode, alaw_encode

TDM_BLOCK = FRAME_SAMPLES * E1_TIMESLOTS  # 5120 octets = 20 ms of E1
DCHAN_SUFFIX = ".dchan"
TDM_SUFFIX = ".tdm"
_BCH = np.array(BCHANNELS, dtype=np.intp)


def _idle_block(ts0: npt.NDArray[np.uint8] | None, ts16: int) -> npt.NDArray[np.uint8]:
    """160 G.704 frames of 32 octets, every B-channel carrying A-law silence."""
    block = np.full((FRAME_SAMPLES, E1_TIMESLOTS), ALAW_SILENCE, dtype=np.uint8)
    block[:, 16] = ts16  # HDLC flags when the D-channel is idle on the TDM view
    if ts0 is not None:
        block[:, 0] = ts0
    return block


def pack_tdm(frames: Mapping[int, npt.NDArray[np.uint8]], ts0: npt.NDArray[np.uint8] | None = None,
             ts16: int = 0x7E) -> bytes:
    """Interleave per-timeslot A-law octets into 160 G.704 frames of 32 octets."""
    block = _idle_block(ts0, ts16)
    for ts, octets in frames.items():
        block[:, ts] = octets
    return block.tobytes()


def pack_linear(frames: Mapping[int, npt.ArrayLike], ts0: npt.NDArray[np.uint8] | None = None,
                ts16: int = 0x7E) -> bytes:
    """Linear int16 frames per timeslot to one TDM block, A-law encoded in one pass.

    The channels are stacked into one ``(n, 160)`` array so the whole span is
    encoded with a single table look-up per tick (not one call per B-channel).
    """
    block = _idle_block(ts0, ts16)
    if frames:
        slots = np.fromiter(frames.keys(), dtype=np.intp, count=len(frames))
        linear = np.stack([np.asarray(frame, dtype=np.int16) for frame in frames.values()])
        block[:, slots] = alaw_encode(linear).T
    return block.tobytes()


def unpack_tdm(data: bytes) -> npt.NDArray[np.uint8]:
    """A 20 ms block as a (160, 32) array of octets, frame by timeslot."""
    if len(data) != TDM_BLOCK:
        raise SpanOperationError(f"TDM block of {len(data)} octets, expected {TDM_BLOCK}")
    return np.frombuffer(data, dtype=np.uint8).reshape(FRAME_SAMPLES, E1_TIMESLOTS)


def alarms_from(data: Mapping[str, Any]) -> SpanAlarms:
    return SpanAlarms(**{k: bool(data.get(k, False)) for k in SpanAlarms.__dataclass_fields__})


def counters_from(data: Mapping[str, Any]) -> SpanCounters:
    return SpanCounters(**{k: int(data.get(k, 0)) for k in SpanCounters.__dataclass_fields__})


class SimSpan(Span):
    """An E1 span whose far end is the simulator process."""

    def __init__(self, address: str) -> None:
        super().__init__(address)
        parsed = DeviceAddress.parse(address)
        path = parsed.target
        if not path:
            raise SpanInitError(f"span address {address!r}: 'sim:' needs a socket path")
        self._sockets: list[socket.socket] = []
        try:
            self._control = self._connect(path)
            self._dchan = self._connect(path + DCHAN_SUFFIX)
            self._tdm = self._connect(path + TDM_SUFFIX)
        except OSError as exc:
            for sock in self._sockets:
                sock.close()
            raise SpanInitError(
                f"span {address}: cannot reach the E1 simulator at {path}: {exc.strerror}; "
                "is 'hil sim e1' running?", exc.errno,
            ) from exc

    def _connect(self, path: str) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._sockets.append(sock)
        sock.connect(path)
        sock.setblocking(False)
        return sock

    def _send(self, sock: socket.socket, data: bytes, what: str) -> None:
        try:
            sock.send(data)
        except BlockingIOError as exc:
            raise SpanOperationError(f"span {self.address}: {what} queue full, dropped") from exc
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise SpanLinkLost(f"span {self.address}: simulator closed the {what} link") from exc

    def _recv(self, sock: socket.socket, size: int, what: str) -> bytes | None:
        try:
            data = sock.recv(size)
        except BlockingIOError:
            return None
        except ConnectionResetError as exc:
            raise SpanLinkLost(f"span {self.address}: simulator reset the {what} link") from exc
        if not data:  # EOF: the peer closed (libpri would not notice; POLLHUP)
            raise SpanLinkLost(f"span {self.address}: simulator closed the {what} link")
        return data

    def _configure(self, config: SpanConfig) -> None:
        message = {"op": "configure", "config": asdict(config)}
        self._send(self._control, json.dumps(message).encode(), "control")

    def _loopback_hook(self, mode: Loopback) -> None:
        self._send(self._control, json.dumps({"op": "loopback", "mode": mode.value}).encode(),
                   "control")

    def _control_fileno(self) -> int | None:
        return self._control.fileno()

    def _poll_events(self) -> list[SpanEvent]:
        events: list[SpanEvent] = []
        while True:
            try:
                data = self._recv(self._control, 65536, "control")
            except SpanLinkLost as exc:
                events.append(SpanEvent("hangup", self._alarms, self._counters, str(exc)))
                return events
            if data is None:
                return events
            try:
                message = json.loads(data)
                kind = message["event"]
                alarms = alarms_from(message["alarms"])
                counters = counters_from(message["counters"])
            except (ValueError, KeyError, TypeError) as exc:
                raise SpanOperationError(
                    f"span {self.address}: bad control message from simulator {data[:80]!r}"
                ) from exc
            events.append(SpanEvent("alarms" if kind == "line" else "counters", alarms, counters,
                                    str(message.get("detail", ""))))

    def _dchannel_fileno(self) -> int:
        return self._dchan.fileno()

    def _read_dframe(self) -> bytes | None:
        return self._recv(self._dchan, 4096, "D-channel")

    def _write_dframe(self, frame: bytes) -> None:
        self._send(self._dchan, frame, "D-channel")

    def _audio_fileno(self) -> int | None:
        return self._tdm.fileno()

    def _read_audio(self) -> dict[int, npt.NDArray[np.int16]] | None:
        data = self._recv(self._tdm, TDM_BLOCK + 1, "TDM")
        if data is None:
            return None
        block = unpack_tdm(data)
        linear = alaw_decode(np.ascontiguousarray(block[:, _BCH].T))
        return {ts: linear[i] for i, ts in enumerate(BCHANNELS)}

    def _write_audio(self, frames: AudioFrames) -> None:
        self._send(self._tdm, pack_linear(frames), "TDM")

    def _close(self) -> None:
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()
