"""DAHDI backend: an FXO module channel (``fxsks`` signalling) or an FXS module
channel (``fxoks`` signalling), reached through ``/dev/dahdi/channel``.

Address: ``dahdi:CHANNEL`` (global DAHDI channel number, as in
``/etc/dahdi/system.conf``). Audio is read and written as signed linear
(DAHDI_SETLINEAR) in 160-sample blocks (DAHDI_SET_BLOCKSIZE). Signalling goes
through DAHDI_HOOK and DAHDI_GETEVENT; hook flash, pulse-digit and debounce
timing are done by the kernel (``rxflashtime``, ``debouncetime``).

The ioctl and open calls are injectable (``ioctl=``, ``open_device=``): tests
replace them at this FFI boundary; the packing is that of ``dahdi/user.h``
(see :mod:`drivers.dahdi_abi`).

Limits: taking battery away from an FXS phone is done as DAHDI does it, by
going on-hook on the channel, which makes the kernel open the loop for its
kewlstart time (about 500 ms); restoring battery is then automatic.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from drivers import dahdi_abi as abi
from drivers.analog.base import (
    FRAME_SAMPLES,
    Frame,
    FxoPort,
    FxsPort,
    PortEvent,
    PortEventType,
)
from drivers.analog.errors import AnalogPortError, AnalogPortInitError, DahdiAbsentError
from drivers.registry import DeviceAddress

log = logging.getLogger("drivers.analog.dahdi")

DAHDI_CHANNEL_DEVICE = "/dev/dahdi/channel"

IoctlFn = Callable[[int, int, bytes], bytes]
OpenFn = Callable[[str], int]


def _default_ioctl(fd: int, request: int, arg: bytes) -> bytes:
    result: bytes = fcntl.ioctl(fd, request, arg)
    return result


def _default_open(path: str) -> int:
    return os.open(path, os.O_RDWR | os.O_NONBLOCK)


class _DahdiChannel:
    """The open file descriptor of one DAHDI channel and its ioctls."""

    def __init__(self, address: DeviceAddress, expect: tuple[int, ...], role: str,
                 ioctl: IoctlFn, open_device: OpenFn) -> None:
        try:
            self.channo = int(address.target)
        except ValueError:
            raise AnalogPortInitError(
                f"analog address {address.text!r}: expected 'dahdi:CHANNEL' with a channel number"
            ) from None
        if self.channo < 1:
            raise AnalogPortInitError(
                f"analog address {address.text!r}: channel numbers start at 1")
        self._ioctl = ioctl
        try:
            self.fd = open_device(DAHDI_CHANNEL_DEVICE)
        except FileNotFoundError:
            raise DahdiAbsentError(
                f"DAHDI is not loaded: {DAHDI_CHANNEL_DEVICE} does not exist "
                f"(load the dahdi and card modules, run dahdi_cfg, or use a 'sim:' address "
                f"for channel {self.channo})", errno.ENOENT
            ) from None
        except OSError as exc:
            raise AnalogPortInitError(
                f"cannot open {DAHDI_CHANNEL_DEVICE} for channel {self.channo}: {exc.strerror}",
                exc.errno,
            ) from exc
        try:
            self.call(abi.DAHDI_SPECIFY, abi.pack_int(self.channo), "DAHDI_SPECIFY")
            self.call(abi.DAHDI_SET_BLOCKSIZE, abi.pack_int(FRAME_SAMPLES), "DAHDI_SET_BLOCKSIZE")
            self.call(abi.DAHDI_SETLINEAR, abi.pack_int(1), "DAHDI_SETLINEAR")
            self.params = abi.DahdiParams.unpack(
                self.call(abi.DAHDI_GET_PARAMS, abi.DahdiParams.request(), "DAHDI_GET_PARAMS"))
        except AnalogPortError as exc:
            os.close(self.fd)
            raise AnalogPortInitError(f"DAHDI channel {self.channo}: {exc}") from exc
        if self.params.sigtype not in expect:
            os.close(self.fd)
            raise AnalogPortInitError(
                f"DAHDI channel {self.channo} has signalling 0x{self.params.sigtype:x}; "
                f"an {role} port needs {' or '.join(hex(e) for e in expect)} "
                f"(set it in /etc/dahdi/system.conf)"
            )

    def call(self, request: int, arg: bytes, what: str) -> bytes:
        try:
            return self._ioctl(self.fd, request, arg)
        except OSError as exc:
            raise AnalogPortError(
                f"DAHDI channel {self.channo}: {what} failed: {exc.strerror}", exc.errno
            ) from exc

    def hook(self, value: int, what: str) -> None:
        self.call(abi.DAHDI_HOOK, abi.pack_int(value), f"DAHDI_HOOK {what}")

    def events(self) -> list[int]:
        out: list[int] = []
        for _ in range(64):  # DAHDI_MAX_EVENTSIZE: the kernel queue cannot hold more
            code = abi.unpack_int(self.call(abi.DAHDI_GETEVENT, abi.pack_int(0), "DAHDI_GETEVENT"))
            if code == abi.DAHDI_EVENT_NONE:
                break
            out.append(code)
        return out

    def read(self) -> Frame | None:
        try:
            data = os.read(self.fd, FRAME_SAMPLES * 2)
        except BlockingIOError:
            return None
        except OSError as exc:
            if exc.errno == abi.ELAST:  # DAHDI: an event is pending, read it first
                return None
            raise AnalogPortError(f"DAHDI channel {self.channo}: read failed: {exc.strerror}",
                                  exc.errno) from exc
        if len(data) != FRAME_SAMPLES * 2:
            log.warning("DAHDI channel %d: short read of %d bytes", self.channo, len(data),
                        extra={"channel": self.channo})
            return None
        return np.frombuffer(data, dtype="<i2").astype(np.int16)

    def write(self, frame: Frame) -> None:
        try:
            os.write(self.fd, frame.astype("<i2").tobytes())
        except BlockingIOError:
            log.debug("DAHDI channel %d: write buffer full, frame dropped", self.channo)
        except OSError as exc:
            if exc.errno == abi.ELAST:  # an event is pending; the frame is dropped
                return
            raise AnalogPortError(f"DAHDI channel {self.channo}: write failed: {exc.strerror}",
                                  exc.errno) from exc

    def close(self) -> None:
        os.close(self.fd)


def decode_fxo_event(code: int) -> list[PortEvent]:
    """DAHDI events on an ``fxsks`` channel (facing a line) as port events."""
    table = {
        abi.DAHDI_EVENT_RINGBEGIN: [PortEventType.RING_BEGIN],
        abi.DAHDI_EVENT_RINGOFFHOOK: [PortEventType.RING_BEGIN],
        abi.DAHDI_EVENT_RINGEROFF: [PortEventType.RING_END],
        abi.DAHDI_EVENT_ONHOOK: [PortEventType.BATTERY_LOST],
        abi.DAHDI_EVENT_POLARITY: [PortEventType.POLARITY_REVERSAL],
        abi.DAHDI_EVENT_HOOKCOMPLETE: [PortEventType.FLASH_COMPLETE],
        abi.DAHDI_EVENT_ALARM: [PortEventType.ALARM, PortEventType.BATTERY_LOST],
        abi.DAHDI_EVENT_NOALARM: [PortEventType.NO_ALARM, PortEventType.BATTERY_RESTORED],
        abi.DAHDI_EVENT_REMOVED: [PortEventType.ALARM],
    }
    return [PortEvent(t) for t in table.get(code, [])]


def decode_fxs_event(code: int) -> list[PortEvent]:
    """DAHDI events on an ``fxoks`` channel (feeding a phone) as port events."""
    if code & abi.DAHDI_EVENT_PULSEDIGIT:
        return [PortEvent(PortEventType.PULSE_DIGIT, chr(code & 0xFF))]
    table = {
        abi.DAHDI_EVENT_RINGOFFHOOK: PortEventType.OFF_HOOK,
        abi.DAHDI_EVENT_ONHOOK: PortEventType.ON_HOOK,
        abi.DAHDI_EVENT_WINKFLASH: PortEventType.FLASH,
        abi.DAHDI_EVENT_RINGERON: PortEventType.RINGER_ON,
        abi.DAHDI_EVENT_RINGEROFF: PortEventType.RINGER_OFF,
        abi.DAHDI_EVENT_ALARM: PortEventType.ALARM,
        abi.DAHDI_EVENT_NOALARM: PortEventType.NO_ALARM,
        abi.DAHDI_EVENT_REMOVED: PortEventType.ALARM,
    }
    kind = table.get(code)
    return [PortEvent(kind)] if kind is not None else []


def _decode_all(channel: _DahdiChannel, decode: Callable[[int], list[PortEvent]],
                name: str) -> list[PortEvent]:
    out: list[PortEvent] = []
    for code in channel.events():
        decoded = decode(code)
        if not decoded:
            log.debug("port %s: DAHDI event %d ignored", name, code,
                      extra={"channel": channel.channo})
        out.extend(decoded)
    return out


class DahdiFxoPort(FxoPort):
    backend = "dahdi"

    def __init__(self, address: DeviceAddress, name: str = "", *,
                 ioctl: IoctlFn = _default_ioctl, open_device: OpenFn = _default_open) -> None:
        # open first: a failed open leaves no half-built port behind for __del__
        chan = _DahdiChannel(address, (abi.DAHDI_SIG_FXSKS, abi.DAHDI_SIG_FXSLS), "FXO",
                             ioctl, open_device)
        super().__init__(name or address.text)
        self._chan = chan
        self._battery = True
        self._reversed = False
        self._ringing = False

    def _set_hook(self, off_hook: bool) -> None:
        if off_hook:
            self._chan.hook(abi.DAHDI_OFFHOOK, "OFFHOOK")
        else:
            self._chan.hook(abi.DAHDI_ONHOOK, "ONHOOK")

    def _flash(self, milliseconds: int) -> None:
        # the flash length is the channel's flashtime (system.conf / DAHDI_SET_PARAMS)
        self._chan.hook(abi.DAHDI_FLASH, "FLASH")

    def _poll_events(self) -> list[PortEvent]:
        events = _decode_all(self._chan, decode_fxo_event, self.name)
        for event in events:
            if event.type is PortEventType.BATTERY_LOST:
                self._battery = False
            elif event.type is PortEventType.BATTERY_RESTORED:
                self._battery = True
            elif event.type is PortEventType.POLARITY_REVERSAL:
                self._reversed = not self._reversed
            elif event.type is PortEventType.RING_BEGIN:
                self._ringing = True
            elif event.type is PortEventType.RING_END:
                self._ringing = False
        return events

    @property
    def battery(self) -> bool:
        return self._battery

    @property
    def polarity_reversed(self) -> bool:
        return self._reversed

    @property
    def ringing(self) -> bool:
        return self._ringing

    def _read_frame(self) -> Frame | None:
        return self._chan.read()

    def _write_frame(self, frame: Frame) -> None:
        self._chan.write(frame)

    def _status(self) -> dict[str, Any]:
        return {"channel": self._chan.channo, "off_hook": self.off_hook, "battery": self._battery,
                "polarity": "reverse" if self._reversed else "forward", "ringing": self._ringing}

    def fileno(self) -> int:
        """The channel's file descriptor, for select()/add_reader() in the daemon's loop."""
        return self._chan.fd

    def _close(self) -> None:
        self._chan.close()


class DahdiFxsPort(FxsPort):
    backend = "dahdi"

    def __init__(self, address: DeviceAddress, name: str = "", *,
                 ioctl: IoctlFn = _default_ioctl, open_device: OpenFn = _default_open) -> None:
        # open first: a failed open leaves no half-built port behind for __del__
        chan = _DahdiChannel(address, (abi.DAHDI_SIG_FXOKS, abi.DAHDI_SIG_FXOLS), "FXS",
                             ioctl, open_device)
        super().__init__(name or address.text)
        self._chan = chan
        self._off_hook = bool(self._chan.params.rxisoffhook)

    @property
    def off_hook(self) -> bool:
        return self._off_hook

    def _set_cadence(self, cadence_ms: tuple[int, ...]) -> None:
        self._chan.call(abi.DAHDI_SETCADENCE, abi.pack_cadence(cadence_ms), "DAHDI_SETCADENCE")

    def _ring(self, on: bool) -> None:
        if on:
            self._chan.hook(abi.DAHDI_RING, "RING")
        else:
            self._chan.hook(abi.DAHDI_RINGOFF, "RINGOFF")

    def _set_battery(self, on: bool) -> None:
        if not on:
            self._chan.hook(abi.DAHDI_ONHOOK, "ONHOOK (kewlstart disconnect)")

    def _set_polarity(self, reversed_: bool) -> None:
        self._chan.call(abi.DAHDI_SETPOLARITY, abi.pack_int(1 if reversed_ else 0),
                        "DAHDI_SETPOLARITY")

    def _set_mwi(self, messages: int) -> None:
        self._chan.call(abi.DAHDI_VMWI, abi.pack_int(messages), "DAHDI_VMWI")

    def _on_hook_transfer(self, milliseconds: int) -> None:
        self._chan.call(abi.DAHDI_ONHOOKTRANSFER, abi.pack_int(milliseconds),
                        "DAHDI_ONHOOKTRANSFER")

    def _poll_events(self) -> list[PortEvent]:
        events = _decode_all(self._chan, decode_fxs_event, self.name)
        for event in events:
            if event.type is PortEventType.OFF_HOOK:
                self._off_hook = True
            elif event.type is PortEventType.ON_HOOK:
                self._off_hook = False
        return events

    def _read_frame(self) -> Frame | None:
        return self._chan.read()

    def _write_frame(self, frame: Frame) -> None:
        self._chan.write(frame)

    def _status(self) -> dict[str, Any]:
        return {"channel": self._chan.channo, "off_hook": self._off_hook,
                **self._common_status()}

    def fileno(self) -> int:
        """The channel's file descriptor, for select()/add_reader() in the daemon's loop."""
        return self._chan.fd

    def _close(self) -> None:
        self._chan.close()
