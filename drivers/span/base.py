"""The span contract: one E1 span, whatever the backend (DESIGN "The driver seam").

A span has a line side (framing, line code, clock, alarms, error counters,
loopback), one D-channel carrying whole HDLC frames (LAPD, Q.921) and up to
30 B-channels of G.711 A-law audio handed up as linear 160-sample frames
(20 ms at 8 kHz). Public methods here do the checking and bookkeeping; the
backends implement the private ``_`` hooks.

E1 numbering (G.704 §2.3): timeslot 0 carries frame alignment, timeslot 16
the D-channel (CCS); B-channels are numbered by their timeslot, 1-15 and
17-31, as the Q.931 channel identification IE does (Q.931 §4.5.13).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from drivers.span.errors import SpanOperationError

log = logging.getLogger("drivers.span")

E1_TIMESLOTS = 32
DCHANNEL_TIMESLOT = 16
BCHANNELS: tuple[int, ...] = tuple(ts for ts in range(1, 32) if ts != DCHANNEL_TIMESLOT)
FRAME_SAMPLES = 160  # 20 ms at 8 kHz
MAX_DFRAME = 260  # Q.921 §5.9.3: N201 = 260 octets of information field
MIN_DFRAME = 3  # address (2) + control (1), Q.921 §2.1

Framing = Literal["ccs", "cas"]
LineCode = Literal["hdb3", "ami"]


class Loopback(StrEnum):
    """Maintenance loops (DAHDI_MAINT_* / G.704 test loops)."""

    OFF = "off"
    LOCAL = "local"  # our transmit looped to our receive, line sees AIS
    REMOTE = "remote"  # line receive looped back to the line, unframed (far end sees itself)
    PAYLOAD = "payload"  # received payload looped back with our own framing and CRC-4


@dataclass(frozen=True)
class SpanConfig:
    """Line configuration of one E1 span (G.703/G.704)."""

    framing: Framing = "ccs"
    crc4: bool = True
    linecode: LineCode = "hdb3"
    clock_priority: int = 1  # 0: never a timing source; 1 = primary, 2 = secondary...
    lbo: int = 0  # line build-out index (0 = 0 dB / 120 ohm, DAHDI lbo)
    bchannels: tuple[int, ...] = BCHANNELS
    dchannel: int = DCHANNEL_TIMESLOT
    hardhdlc: bool = True

    def __post_init__(self) -> None:
        if self.framing not in ("ccs", "cas"):
            raise ValueError(f"framing {self.framing!r}: expected 'ccs' or 'cas'")
        if self.linecode not in ("hdb3", "ami"):
            raise ValueError(f"line code {self.linecode!r}: expected 'hdb3' or 'ami'")
        if not 0 <= self.lbo <= 7:
            raise ValueError(f"line build-out {self.lbo}: expected 0..7")
        if self.clock_priority < 0:
            raise ValueError(f"clock priority {self.clock_priority}: expected >= 0")
        for ts in self.bchannels:
            if ts not in BCHANNELS or ts == self.dchannel:
                raise ValueError(f"B-channel timeslot {ts}: expected 1-15 or 17-31")


@dataclass(frozen=True)
class SpanAlarms:
    """Line alarms (ITU-T G.775 / O.162 names; DAHDI_ALARM_* bits)."""

    los: bool = False  # loss of signal (red)
    lof: bool = False  # loss of frame alignment (red)
    yellow: bool = False  # remote alarm indication (RAI, A-bit in NFAS)
    blue: bool = False  # alarm indication signal (AIS: all ones)
    loopback: bool = False

    @property
    def red(self) -> bool:
        return self.los or self.lof

    @property
    def any(self) -> bool:
        return self.red or self.yellow or self.blue or self.loopback

    def names(self) -> list[str]:
        out = []
        if self.red:
            out.append("red")
        if self.yellow:
            out.append("yellow")
        if self.blue:
            out.append("blue")
        if self.loopback:
            out.append("loopback")
        return out

    def as_dict(self) -> dict[str, bool]:
        return {**asdict(self), "red": self.red}


@dataclass(frozen=True)
class SpanCounters:
    """Error counters since the span was opened (G.826 / DAHDI spaninfo)."""

    bpv: int = 0  # bipolar (code) violations
    crc4: int = 0  # CRC-4 block errors (G.704 §2.3.3.5)
    ebit: int = 0  # E-bits: far end reports our CRC-4 errors
    fas: int = 0  # frame alignment signal errors
    slips: int = 0  # controlled slips

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class SpanEvent:
    """A line event: alarms changed, counters moved, or the link went away."""

    kind: Literal["alarms", "counters", "hangup"]
    alarms: SpanAlarms = field(default_factory=SpanAlarms)
    counters: SpanCounters = field(default_factory=SpanCounters)
    detail: str = ""


AudioFrames = Mapping[int, npt.NDArray[np.int16]]


class Span(ABC):
    """One E1 span. A context manager; :meth:`close` is safe twice."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.config: SpanConfig | None = None
        self._alarms = SpanAlarms()
        self._counters = SpanCounters()
        self._loopback = Loopback.OFF
        self._closed = False
        self.dframes_in = 0
        self.dframes_out = 0
        self.dframes_rejected = 0

    # -- line side ---------------------------------------------------------------

    def configure(self, config: SpanConfig) -> None:
        """Apply framing, CRC-4, line code, clock priority and build-out."""
        self._check_open("configure")
        self._configure(config)
        self.config = config

    def alarms(self) -> SpanAlarms:
        return self._alarms

    def counters(self) -> SpanCounters:
        return self._counters

    def loopback(self, mode: Loopback | str) -> None:
        """Start or stop a maintenance loop (field engineers, OPS-1)."""
        self._check_open("loopback")
        loop = Loopback(mode)
        self._loopback_hook(loop)
        self._loopback = loop

    @property
    def loopback_mode(self) -> Loopback:
        return self._loopback

    def control_fileno(self) -> int | None:
        """A file descriptor readable when line events are pending, or None to poll."""
        return self._control_fileno()

    def poll_events(self) -> list[SpanEvent]:
        """Drain pending line events (alarm changes, counters, hang-up), updating the cache."""
        events = self._poll_events()
        for event in events:
            if event.kind in ("alarms", "counters"):
                self._alarms = event.alarms
                self._counters = event.counters
        return events

    # -- D-channel ---------------------------------------------------------------

    def dchannel_fileno(self) -> int:
        return self._dchannel_fileno()

    def read_dframe(self) -> bytes | None:
        """One whole HDLC frame (no FCS), or None when none is waiting.

        Frames shorter than a LAPD header or longer than N201 + header are
        dropped and counted, as an HDLC controller would (Q.921 §5.8.5).
        Raises :class:`~drivers.span.errors.SpanLinkLost` when the far side closed.
        """
        while True:
            frame = self._read_dframe()
            if frame is None:
                return None
            if MIN_DFRAME <= len(frame) <= MAX_DFRAME + 4:
                self.dframes_in += 1
                return frame
            self.dframes_rejected += 1
            log.warning(
                "span %s: D-channel frame of %d octets discarded (LAPD needs %d..%d)",
                self.address, len(frame), MIN_DFRAME, MAX_DFRAME + 4,
                extra={"span": self.address, "length": len(frame)},
            )

    def write_dframe(self, frame: bytes) -> None:
        """Send one whole HDLC frame (the controller adds the FCS)."""
        self._check_open("write_dframe")
        if not MIN_DFRAME <= len(frame) <= MAX_DFRAME + 4:
            raise SpanOperationError(
                f"span {self.address}: D-channel frame of {len(frame)} octets is not LAPD"
            )
        self._write_dframe(frame)
        self.dframes_out += 1

    # -- B-channels --------------------------------------------------------------

    def audio_fileno(self) -> int | None:
        return self._audio_fileno()

    def read_audio(self) -> dict[int, npt.NDArray[np.int16]] | None:
        """One 20 ms block: B-channel timeslot -> 160 linear samples, or None."""
        return self._read_audio()

    def write_audio(self, frames: AudioFrames) -> None:
        """Send one 20 ms block; B-channels absent from ``frames`` carry A-law silence."""
        self._check_open("write_audio")
        for ts, frame in frames.items():
            if ts not in BCHANNELS:
                raise SpanOperationError(f"span {self.address}: timeslot {ts} is not a B-channel")
            if len(frame) != FRAME_SAMPLES:
                raise SpanOperationError(
                    f"span {self.address}: B-channel {ts} frame has {len(frame)} samples, "
                    f"expected {FRAME_SAMPLES}"
                )
        self._write_audio(frames)

    # -- lifecycle ---------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "alarms": self._alarms.as_dict(),
            "counters": self._counters.as_dict(),
            "loopback": self._loopback.value,
            "config": asdict(self.config) if self.config else None,
            "dframes": {"in": self.dframes_in, "out": self.dframes_out,
                        "rejected": self.dframes_rejected},
        }

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._close()

    def __enter__(self) -> Span:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_open(self, what: str) -> None:
        if self._closed:
            raise SpanOperationError(f"span {self.address}: {what} on a closed span")

    # -- backend hooks -----------------------------------------------------------

    @abstractmethod
    def _configure(self, config: SpanConfig) -> None: ...

    @abstractmethod
    def _loopback_hook(self, mode: Loopback) -> None: ...

    @abstractmethod
    def _control_fileno(self) -> int | None: ...

    @abstractmethod
    def _poll_events(self) -> list[SpanEvent]: ...

    @abstractmethod
    def _dchannel_fileno(self) -> int: ...

    @abstractmethod
    def _read_dframe(self) -> bytes | None: ...

    @abstractmethod
    def _write_dframe(self, frame: bytes) -> None: ...

    @abstractmethod
    def _audio_fileno(self) -> int | None: ...

    @abstractmethod
    def _read_audio(self) -> dict[int, npt.NDArray[np.int16]] | None: ...

    @abstractmethod
    def _write_audio(self, frames: AudioFrames) -> None: ...

    @abstractmethod
    def _close(self) -> None: ...
