"""The analog port contract: one FXO (carrier line) or FXS (phone) channel.

Modelled on Asterisk's ``struct analog_callback`` (``sig_analog.h``): the
signalling state machines above the seam see only hook, ring, battery and
polarity *events* and 20 ms audio frames; each backend turns its own I/O
(DAHDI ioctls, a simulator socket) into them. Public methods here do the
common work (state checks, bookkeeping for :meth:`status`) and call the
private ``_xxx`` hooks that a backend implements.

Audio is linear 16-bit PCM at 8 kHz in frames of :data:`FRAME_SAMPLES`
samples (20 ms), the tick of the media engine.
"""

from __future__ import annotations

import enum
import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from drivers.analog.errors import PortStateError

log = logging.getLogger("drivers.analog")

SAMPLE_RATE = 8000
FRAME_SAMPLES = 160
FRAME_SECONDS = FRAME_SAMPLES / SAMPLE_RATE

Frame = npt.NDArray[np.int16]
PortKind = Literal["fxo", "fxs"]


def silence() -> Frame:
    """One 20 ms frame of silence."""
    return np.zeros(FRAME_SAMPLES, dtype=np.int16)


class PortEventType(enum.Enum):
    """What a port reports to the signalling layer."""

    # FXO (facing a carrier line)
    RING_BEGIN = "ring-begin"  # ringing voltage appeared on the line
    RING_END = "ring-end"  # ringing voltage went away
    BATTERY_LOST = "battery-lost"  # loop current / battery dropped (CPC, disconnect)
    BATTERY_RESTORED = "battery-restored"
    POLARITY_REVERSAL = "polarity-reversal"  # tip/ring swapped (answer or clear supervision)
    FLASH_COMPLETE = "flash-complete"  # a timed hook flash we asked for has finished
    # FXS (feeding a phone)
    OFF_HOOK = "off-hook"
    ON_HOOK = "on-hook"
    FLASH = "flash"  # the phone flashed (timed break recall)
    PULSE_DIGIT = "pulse-digit"  # a rotary/decadic digit, value in PortEvent.digit
    RINGER_ON = "ringer-on"
    RINGER_OFF = "ringer-off"
    # both
    ALARM = "alarm"  # the channel hardware failed or went away
    NO_ALARM = "no-alarm"


@dataclass(frozen=True)
class PortEvent:
    type: PortEventType
    digit: str = ""


class AnalogPort(ABC):
    """Common part of an FXO or FXS port. Safe to :meth:`close` twice; a context manager."""

    kind: PortKind

    def __init__(self, name: str) -> None:
        self.name = name
        self._closed = False
        self.frames_in = 0
        self.frames_out = 0

    # -- lifecycle ---------------------------------------------------------
    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._close()

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> AnalogPort:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        if not getattr(self, "_closed", True):
            log.warning("analog port %s was not closed; closing it now", self.name)
            self.close()

    def _check_open(self, what: str) -> None:
        if self._closed:
            raise PortStateError(f"port {self.name}: {what} on a closed port")

    # -- audio and events ----------------------------------------------------
    def read_frame(self) -> Frame | None:
        """The next received 20 ms frame, or None when none is waiting."""
        self._check_open("read_frame")
        frame = self._read_frame()
        if frame is not None:
            self.frames_in += 1
        return frame

    def write_frame(self, frame: Frame) -> None:
        """Send one 20 ms frame towards the line/phone (call once per tick)."""
        self._check_open("write_frame")
        samples = np.asarray(frame, dtype=np.int16)
        if samples.shape != (FRAME_SAMPLES,):
            raise ValueError(
                f"port {self.name}: a frame is {FRAME_SAMPLES} samples, got shape {samples.shape}"
            )
        self._write_frame(samples)
        self.frames_out += 1

    def poll_events(self) -> list[PortEvent]:
        """Signalling events seen since the last call, oldest first."""
        self._check_open("poll_events")
        return self._poll_events()

    def status(self) -> dict[str, Any]:
        """Electrical state of the port (no call state) for the console and CLI."""
        return {"name": self.name, "kind": self.kind, "backend": self.backend,
                "frames_in": self.frames_in, "frames_out": self.frames_out,
                "closed": self._closed, **self._status()}

    backend: str = ""

    @abstractmethod
    def _read_frame(self) -> Frame | None: ...

    @abstractmethod
    def _write_frame(self, frame: Frame) -> None: ...

    @abstractmethod
    def _poll_events(self) -> list[PortEvent]: ...

    @abstractmethod
    def _status(self) -> dict[str, Any]: ...

    @abstractmethod
    def _close(self) -> None: ...


class FxoPort(AnalogPort):
    """A port facing a carrier line: we are the 'phone' on that line."""

    kind: PortKind = "fxo"

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._off_hook = False

    @property
    def off_hook(self) -> bool:
        return self._off_hook

    def set_hook(self, off_hook: bool) -> None:
        """Seize (off-hook, loop closed) or release (on-hook) the line."""
        self._check_open("set_hook")
        self._set_hook(off_hook)
        self._off_hook = off_hook

    def flash(self, milliseconds: int = 100) -> None:
        """A timed break recall (hook flash); FLASH_COMPLETE follows when done."""
        self._check_open("flash")
        if not self._off_hook:
            raise PortStateError(f"port {self.name}: cannot flash an on-hook line")
        if not 40 <= milliseconds <= 1000:
            raise ValueError(f"port {self.name}: flash of {milliseconds} ms outside 40..1000 ms")
        self._flash(milliseconds)

    @abstractmethod
    def _set_hook(self, off_hook: bool) -> None: ...

    @abstractmethod
    def _flash(self, milliseconds: int) -> None: ...

    @property
    @abstractmethod
    def battery(self) -> bool:
        """True while the line delivers battery (loop voltage)."""

    @property
    @abstractmethod
    def polarity_reversed(self) -> bool: ...

    @property
    @abstractmethod
    def ringing(self) -> bool:
        """True while ringing voltage is on the line."""


class FxsPort(AnalogPort):
    """A port feeding an analog phone: we are the 'exchange' for that phone."""

    kind: PortKind = "fxs"

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._cadence: tuple[int, ...] = (2000, 4000)
        self._ringing = False
        self._battery = True
        self._reversed = False
        self._mwi = 0

    def set_cadence(self, cadence_ms: Sequence[int]) -> None:
        """Ring cadence as on/off pairs in ms, e.g. (400, 200, 400, 2000) for UK double ring."""
        self._check_open("set_cadence")
        values = tuple(int(v) for v in cadence_ms)
        if not values or len(values) % 2 or len(values) > 16 or any(v <= 0 for v in values):
            raise ValueError(
                f"port {self.name}: ring cadence must be 2..16 positive on/off values in ms, "
                f"got {list(cadence_ms)}"
            )
        self._set_cadence(values)
        self._cadence = values

    def ring(self, on: bool) -> None:
        """Start or stop the ring generator (with the configured cadence)."""
        self._check_open("ring")
        self._ring(on)
        self._ringing = on

    def set_battery(self, on: bool) -> None:
        """Apply or remove loop battery (an open-loop disconnect / CPC pulse)."""
        self._check_open("set_battery")
        self._set_battery(on)
        self._battery = on

    def set_polarity(self, reversed_: bool) -> None:
        """Normal or reversed tip/ring polarity (on-hook caller ID, answer supervision)."""
        self._check_open("set_polarity")
        self._set_polarity(reversed_)
        self._reversed = reversed_

    def set_mwi(self, messages: int) -> None:
        """Message-waiting lamp: on when ``messages`` > 0."""
        self._check_open("set_mwi")
        if messages < 0:
            raise ValueError(f"port {self.name}: message count {messages} is negative")
        self._set_mwi(messages)
        self._mwi = messages

    def on_hook_transfer(self, milliseconds: int) -> None:
        """Carry audio to the on-hook phone for ``milliseconds`` (caller ID, visual MWI)."""
        self._check_open("on_hook_transfer")
        if not 0 < milliseconds <= 10000:
            raise ValueError(f"port {self.name}: on-hook transfer of {milliseconds} ms "
                             "outside 1..10000 ms")
        self._on_hook_transfer(milliseconds)

    @property
    def cadence(self) -> tuple[int, ...]:
        return self._cadence

    @property
    def ringing(self) -> bool:
        return self._ringing

    @property
    @abstractmethod
    def off_hook(self) -> bool: ...

    def _common_status(self) -> dict[str, Any]:
        return {"ringing": self._ringing, "battery": self._battery,
                "polarity": "reverse" if self._reversed else "forward",
                "mwi": self._mwi, "cadence_ms": list(self._cadence)}

    @abstractmethod
    def _set_cadence(self, cadence_ms: tuple[int, ...]) -> None: ...

    @abstractmethod
    def _ring(self, on: bool) -> None: ...

    @abstractmethod
    def _set_battery(self, on: bool) -> None: ...

    @abstractmethod
    def _set_polarity(self, reversed_: bool) -> None: ...

    @abstractmethod
    def _set_mwi(self, messages: int) -> None: ...

    @abstractmethod
    def _on_hook_transfer(self, milliseconds: int) -> None: ...
