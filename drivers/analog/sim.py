"""Simulator backend: the port talks to a hil/sim process over a UNIX socket.

Address: ``sim:/path/to/port.sock`` (a SOCK_SEQPACKET socket the simulator
listens on; see :mod:`drivers.analog.simwire`), with options
``?flash_max=800&pulse_break_max=80&interdigit=200`` (ms, FXS hook timing).
Tests may hand over one end of a ``socketpair`` with :meth:`from_socket`.

What it models: loop state, ringing voltage, battery and polarity as bits per
20 ms frame, audio as 160-sample frames. What it does not model: voltages,
ring trip timing below 20 ms, or line impedance. If the simulator goes away
the port reports ALARM once and then behaves as a dead line (no battery,
no audio); it never blocks.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

from drivers.analog import simwire
from drivers.analog.base import (
    FRAME_SECONDS,
    Frame,
    FxoPort,
    FxsPort,
    PortEvent,
    PortEventType,
)
from drivers.analog.errors import AnalogPortInitError
from drivers.analog.hookswitch import HookSwitch, HookTiming
from drivers.registry import DeviceAddress

log = logging.getLogger("drivers.analog.sim")


def _connect(address: DeviceAddress) -> socket.socket:
    if not address.target:
        raise AnalogPortInitError(
            f"analog address {address.text!r}: expected 'sim:/path/to/port.sock'")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        sock.connect(address.target)
    except OSError as exc:
        sock.close()
        raise AnalogPortInitError(
            f"analog simulator at {address.target} does not answer: {exc.strerror} "
            f"(is the hil simulator running?)", exc.errno
        ) from exc
    return sock


class _SimLink:
    """The port's end of the simulator socket: non-blocking, frame-sequenced."""

    def __init__(self, sock: socket.socket, name: str) -> None:
        self.sock = sock
        self.sock.setblocking(False)
        self.name = name
        self.seq = 0
        self.alive = True
        self.bad_frames = 0
        self.frames_dropped = 0  # frames the simulator's full socket refused
        self._dropping = False

    def send(self, flags: int, audio: Frame) -> None:
        if not self.alive:
            return
        try:
            self.sock.send(simwire.encode(flags, self.seq, audio))
            self.seq += 1
            self._dropping = False
        except BlockingIOError:
            # One warning per stall, not one per 20 ms frame: a log line per frame per port
            # cost the media tick more than the audio itself.
            self.frames_dropped += 1
            if not self._dropping:
                self._dropping = True
                log.warning("port %s: simulator is not reading; dropping frames "
                            "(%d dropped so far)", self.name, self.frames_dropped)
        except OSError as exc:
            self._lost(f"send failed: {exc.strerror}")

    def receive(self) -> simwire.SimFrame | bool | None:
        """A frame, None if none is waiting, False when the simulator just went away."""
        if not self.alive:
            return None
        try:
            message = self.sock.recv(simwire.MESSAGE_SIZE + 1)
        except BlockingIOError:
            return None
        except OSError as exc:
            self._lost(f"receive failed: {exc.strerror}")
            return False
        if not message:
            self._lost("simulator closed the connection")
            return False
        try:
            return simwire.decode(message)
        except simwire.WireError as exc:
            self.bad_frames += 1
            log.error("port %s: bad frame from simulator dropped: %s", self.name, exc)
            return None

    def _lost(self, why: str) -> None:
        self.alive = False
        log.error("port %s: simulator link lost (%s); port is dead until reopened",
                  self.name, why)

    def close(self) -> None:
        self.sock.close()


class SimFxoPort(FxoPort):
    """An FXO port whose carrier line is hil.sim.pstn."""

    backend = "sim"

    def fileno(self) -> int:
        """The socket, for select()/add_reader() in the daemon's loop."""
        return self._link.sock.fileno()

    def __init__(self, address: DeviceAddress, name: str = "") -> None:
        if address.options:
            raise AnalogPortInitError(
                f"analog address {address.text!r}: an FXO simulator port takes no options")
        sock = _connect(address)  # before the base class: a failed connect leaves no half port
        super().__init__(name or address.text)
        self._link = _SimLink(sock, self.name)
        self._init_state()

    @classmethod
    def from_socket(cls, sock: socket.socket, name: str) -> SimFxoPort:
        self = cls.__new__(cls)
        FxoPort.__init__(self, name)
        self._link = _SimLink(sock, name)
        self._init_state()
        return self

    def _init_state(self) -> None:
        self._flags = simwire.BATTERY  # a line has battery until told otherwise
        self._events: list[PortEvent] = []
        self._flash_frames = 0

    def _set_hook(self, off_hook: bool) -> None:
        self._flash_frames = 0

    def _flash(self, milliseconds: int) -> None:
        self._flash_frames = max(1, round(milliseconds / 1000 / FRAME_SECONDS))

    @property
    def battery(self) -> bool:
        return bool(self._flags & simwire.BATTERY)

    @property
    def polarity_reversed(self) -> bool:
        return bool(self._flags & simwire.REVERSED)

    @property
    def ringing(self) -> bool:
        return bool(self._flags & simwire.RING)

    def _read_frame(self) -> Frame | None:
        got = self._link.receive()
        if got is False:
            self._events.append(PortEvent(PortEventType.ALARM))
            self._apply(0)
            return None
        if got is None or got is True:
            return None
        self._apply(got.flags)
        return got.audio

    def _apply(self, flags: int) -> None:
        changed = flags ^ self._flags
        if changed & simwire.RING:
            self._events.append(PortEvent(
                PortEventType.RING_BEGIN if flags & simwire.RING else PortEventType.RING_END))
        if changed & simwire.BATTERY:
            self._events.append(PortEvent(
                PortEventType.BATTERY_RESTORED if flags & simwire.BATTERY
                else PortEventType.BATTERY_LOST))
        if changed & simwire.REVERSED and flags & simwire.BATTERY:
            self._events.append(PortEvent(PortEventType.POLARITY_REVERSAL))
        self._flags = flags

    def _write_frame(self, frame: Frame) -> None:
        hook = self.off_hook
        if self._flash_frames:
            hook = False
            self._flash_frames -= 1
            if not self._flash_frames:
                self._events.append(PortEvent(PortEventType.FLASH_COMPLETE))
        self._link.send(simwire.OFF_HOOK if hook else 0, frame)

    def _poll_events(self) -> list[PortEvent]:
        out, self._events = self._events, []
        return out

    def _status(self) -> dict[str, Any]:
        return {"off_hook": self.off_hook, "battery": self.battery,
                "polarity": "reverse" if self.polarity_reversed else "forward",
                "ringing": self.ringing, "link": "up" if self._link.alive else "down",
                "bad_frames": self._link.bad_frames,
                "frames_dropped": self._link.frames_dropped}

    def _close(self) -> None:
        self._link.close()


class SimFxsPort(FxsPort):
    """An FXS port whose phone is hil.sim.phone."""

    backend = "sim"

    def fileno(self) -> int:
        """The socket, for select()/add_reader() in the daemon's loop."""
        return self._link.sock.fileno()

    def __init__(self, address: DeviceAddress, name: str = "") -> None:
        timing = _timing(address)  # a bad option is a configuration error: say it first
        sock = _connect(address)  # before the base class: a failed connect leaves no half port
        super().__init__(name or address.text)
        self._link = _SimLink(sock, self.name)
        self._init_state(timing)

    @classmethod
    def from_socket(cls, sock: socket.socket, name: str,
                    timing: HookTiming | None = None) -> SimFxsPort:
        self = cls.__new__(cls)
        FxsPort.__init__(self, name)
        self._link = _SimLink(sock, name)
        self._init_state(timing or HookTiming())
        return self

    def _init_state(self, timing: HookTiming) -> None:
        self._hook = HookSwitch(timing)
        self._events: list[PortEvent] = []
        self._ring_on = False
        self._ring_pos_ms = 0
        self._battery_on = True
        self._reverse = False
        self._lamp = False

    @property
    def off_hook(self) -> bool:
        return self._hook.off_hook

    def _set_cadence(self, cadence_ms: tuple[int, ...]) -> None:
        self._ring_pos_ms = 0

    def _ring(self, on: bool) -> None:
        if on and self._hook.off_hook:
            log.info("port %s: not ringing an off-hook phone", self.name)
            on = False
        if on != self._ring_on:
            self._ring_pos_ms = 0
            self._events.append(PortEvent(PortEventType.RINGER_ON if on
                                          else PortEventType.RINGER_OFF))
        self._ring_on = on

    def _set_battery(self, on: bool) -> None:
        self._battery_on = on

    def _set_polarity(self, reversed_: bool) -> None:
        self._reverse = reversed_

    def _set_mwi(self, messages: int) -> None:
        self._lamp = messages > 0

    def _on_hook_transfer(self, milliseconds: int) -> None:
        """Nothing to do: the simulator wire carries audio whatever the hook state."""

    def _ring_voltage_now(self) -> bool:
        """Where the ring generator is in its cadence (DAHDI_SETCADENCE semantics)."""
        if not self._ring_on:
            return False
        cadence = self.cadence
        period = sum(cadence)
        pos = self._ring_pos_ms % period
        self._ring_pos_ms += round(FRAME_SECONDS * 1000)
        for i, length in enumerate(cadence):
            if pos < length:
                return i % 2 == 0
            pos -= length
        return False

    def _read_frame(self) -> Frame | None:
        got = self._link.receive()
        if got is False:
            self._events.append(PortEvent(PortEventType.ALARM))
            return None
        if got is None or got is True:
            return None
        events = self._hook.feed(got.has(simwire.OFF_HOOK))
        for event in events:
            if event.type is PortEventType.OFF_HOOK and self._ring_on:
                # ring trip: the generator stops as soon as the phone answers
                self._ring_on = False
                self._events.append(PortEvent(PortEventType.RINGER_OFF))
        self._events.extend(events)
        return got.audio

    def _write_frame(self, frame: Frame) -> None:
        flags = 0
        if self._ring_voltage_now():
            flags |= simwire.RING
        if self._battery_on:
            flags |= simwire.BATTERY
        if self._reverse:
            flags |= simwire.REVERSED
        if self._lamp:
            flags |= simwire.MWI
        self._link.send(flags, frame)

    def _poll_events(self) -> list[PortEvent]:
        out, self._events = self._events, []
        return out

    def _status(self) -> dict[str, Any]:
        return {"off_hook": self.off_hook, "link": "up" if self._link.alive else "down",
                "bad_frames": self._link.bad_frames,
                "frames_dropped": self._link.frames_dropped, **self._common_status()}

    def _close(self) -> None:
        self._link.close()


def _timing(address: DeviceAddress) -> HookTiming:
    names = {"flash_max": "flash_max_ms", "pulse_break_max": "pulse_break_max_ms",
             "interdigit": "interdigit_ms"}
    values: dict[str, int] = {}
    for option, value in address.options.items():
        if option not in names:
            raise AnalogPortInitError(
                f"analog address {address.text!r}: unknown option {option!r}; "
                f"known: {', '.join(names)}")
        try:
            values[names[option]] = int(value)
        except ValueError:
            raise AnalogPortInitError(
                f"analog address {address.text!r}: option {option}={value!r} is not whole ms"
            ) from None
    return HookTiming(**values)
