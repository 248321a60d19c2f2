"""The simulator's end of a ``sim:`` analog port socket (see drivers.analog.simwire).

A simulated device (carrier line, phone) is a slave of the port's frame
clock: every frame the port sends advances the device by 20 ms and is answered
with one frame. :meth:`AnalogSimDevice.serve` does that for all frames waiting
(in-process tests call it once per tick); :class:`AnalogDeviceHost` runs a
device as a hil process (``python -m hil.sim.pstn --name line1 --run-dir DIR``)
on ``DIR/NAME.sock`` with a control socket ``DIR/NAME.ctl``.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from abc import ABC, abstractmethod
from typing import Any

import numpy as np
import numpy.typing as npt

from appliance.runtime.control import ControlError
from drivers.analog import simwire
from drivers.analog.base import FRAME_SAMPLES
from hil.sim.process import SimulatedDevice

log = logging.getLogger("hil.sim.analog")

Frame = npt.NDArray[np.int16]
FRAME_MS = 20


class AnalogSimDevice(ABC):
    """A device on the far side of an analog port; subclasses model the device."""

    def __init__(self) -> None:
        self.sock: socket.socket | None = None
        self.frames = 0
        self.seq = 0

    @property
    def now_ms(self) -> int:
        """Simulated time: frames received from the port x 20 ms."""
        return self.frames * FRAME_MS

    def attach(self, sock: socket.socket) -> None:
        self.sock = sock
        sock.setblocking(False)

    def serve(self) -> int:
        """Answer every frame waiting on the socket; returns how many."""
        if self.sock is None:
            return 0
        served = 0
        while True:
            try:
                message = self.sock.recv(simwire.MESSAGE_SIZE + 1)
            except BlockingIOError:
                return served
            except OSError:
                return served
            if not message:
                return served
            self._answer(message)
            served += 1

    def _answer(self, message: bytes) -> None:
        reply = self.answer(message)
        if reply is None or self.sock is None:
            return
        try:
            self.sock.send(reply)
        except OSError as exc:
            log.warning("%s: port went away: %s", type(self).__name__, exc)

    def answer(self, message: bytes) -> bytes | None:
        """The reply to one frame from the port (None for a malformed frame, logged)."""
        try:
            frame = simwire.decode(message)
        except simwire.WireError as exc:
            log.error("%s: bad frame from the port: %s", type(self).__name__, exc)
            return None
        self.frames += 1
        flags, audio = self.step(frame.flags, frame.audio)
        if audio.shape != (FRAME_SAMPLES,):
            raise ValueError(f"{type(self).__name__}.step returned {audio.shape}")
        reply = simwire.encode(flags, self.seq, audio)
        self.seq += 1
        return reply

    @abstractmethod
    def step(self, flags: int, audio: Frame) -> tuple[int, Frame]:
        """One 20 ms frame from the port in, one frame (flags, audio) out."""


def pair(device: AnalogSimDevice) -> socket.socket:
    """Connect ``device`` to a new socketpair; returns the port's end."""
    port_end, device_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    device.attach(device_end)
    return port_end


class AnalogDeviceHost(SimulatedDevice):
    """Hosts an :class:`AnalogSimDevice` as a hil process (:mod:`hil.sim.process`).

    The port connects to ``RUN_DIR/NAME.sock`` (SOCK_SEQPACKET); one port at a
    time, a new connection replaces the old one. Subclasses add control methods.
    """

    def __init__(self, name: str, run_dir: str, options: dict[str, Any],
                 model: AnalogSimDevice) -> None:
        super().__init__(name, run_dir, options)
        self.model = model
        self.connections = 0

    async def start(self) -> None:
        self.listen("sock", self._serve)

    async def _serve(self, peer: socket.socket) -> None:
        self.connections += 1
        loop = asyncio.get_running_loop()
        with peer:
            while True:
                try:
                    message = await loop.sock_recv(peer, simwire.MESSAGE_SIZE + 1)
                except ConnectionError:
                    return
                if not message:
                    return
                reply = self.model.answer(message)
                if reply is not None:
                    try:
                        await loop.sock_sendall(peer, reply)
                    except ConnectionError:
                        return

    def status(self) -> dict[str, Any]:
        return {"socket": self.path("sock"), "connections": self.connections,
                "frames": self.model.frames, "sim_time_s": self.model.now_ms / 1000}


def option(options: dict[str, Any], key: str, kind: type, default: Any) -> Any:
    """A device option of the expected type, or a ValueError naming it."""
    value = options.get(key, default)
    if value is not None and kind is float and isinstance(value, int):
        value = float(value)
    if value is not None and not isinstance(value, kind):
        raise ValueError(f"option {key!r} must be {kind.__name__}, got {value!r}")
    return value


def require(params: dict[str, Any], key: str, kind: type, default: Any = None) -> Any:
    """A control parameter of the expected type, or a ControlError 'bad-params'."""
    try:
        value = option(params, key, kind, default)
    except ValueError as exc:
        raise ControlError("bad-params", str(exc)) from None
    if value is None:
        raise ControlError("bad-params", f"parameter {key!r} is required")
    return value
