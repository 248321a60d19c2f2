"""The UPS contract: one reading of status flags, charge and runtime.

Backends implement :meth:`Ups._connect`, :meth:`Ups._poll`,
:meth:`Ups._command` and :meth:`Ups._disconnect`. The base class does the
common work: it turns I/O failures into a *stale* reading (the last values
known, flagged), logs each failure once with what to check, and reconnects
with exponential back-off, so a caller polling :meth:`Ups.read` never sees an
exception for a UPS that went away.

Status flags are NUT's (docs "ups.status" in NUT's developer guide, new-names
chapter): OL on line, OB on battery, LB low battery, RB replace battery,
CHRG charging, DISCHRG discharging, FSD forced shutdown, ALARM, plus BOOST,
TRIM, BYPASS, CAL, OFF, OVER.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from drivers.errors import DriverError

log = logging.getLogger("drivers.ups")

KNOWN_FLAGS = frozenset(
    {"OL", "OB", "LB", "HB", "RB", "CHRG", "DISCHRG", "BYPASS", "CAL", "OFF", "OVER",
     "TRIM", "BOOST", "FSD", "ALARM"}
)


@dataclass(frozen=True)
class UpsReading:
    """What the UPS said at ``at`` (the driver's monotonic clock)."""

    status: frozenset[str] = frozenset()
    charge: float | None = None  # battery.charge, %
    runtime: float | None = None  # battery.runtime, seconds
    input_voltage: float | None = None
    battery_voltage: float | None = None
    load: float | None = None  # ups.load, %
    stale: bool = True  # True when these values are not current
    at: float = 0.0
    error: str = ""  # why the reading is stale, for the log and status
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def on_line(self) -> bool:
        return "OL" in self.status and "OB" not in self.status

    @property
    def on_battery(self) -> bool:
        return "OB" in self.status

    @property
    def low_battery(self) -> bool:
        return "LB" in self.status

    @property
    def forced_shutdown(self) -> bool:
        return "FSD" in self.status

    def as_dict(self) -> dict[str, object]:
        return {
            "status": sorted(self.status),
            "charge": self.charge,
            "runtime": self.runtime,
            "input_voltage": self.input_voltage,
            "battery_voltage": self.battery_voltage,
            "load": self.load,
            "stale": self.stale,
            "error": self.error,
        }


class Ups(ABC):
    """One UPS, polled with :meth:`read`; safe to :meth:`close` twice."""

    #: first and longest wait before reconnecting after a failure (seconds)
    backoff_initial = 0.5
    backoff_max = 30.0

    def __init__(self, name: str, *, now: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self._now = now
        self._connected = False
        self._closed = False
        self._last = UpsReading(stale=True, error="not read yet")
        self._failures = 0
        self._retry_at = 0.0
        self.identity: dict[str, str] = {}

    # ---- public contract ----------------------------------------------------------------
    def read(self) -> UpsReading:
        """A current reading, or the last one flagged stale when the UPS cannot be read."""
        if self._closed:
            return replace(self._last, stale=True, error="driver closed")
        now = self._now()
        if not self._connected:
            if now < self._retry_at:
                return replace(self._last, stale=True)
            try:
                self._connect()
                self._connected = True
                if self._failures:
                    log.info("UPS %s: reconnected after %d failure(s)", self.name, self._failures,
                             extra={"ups": self.name})
            except DriverError as exc:
                return self._failed(now, exc)
        try:
            reading = self._poll()
        except DriverError as exc:
            self._drop()
            return self._failed(now, exc)
        self._failures = 0
        self._last = replace(reading, at=now)
        return self._last

    def command(self, name: str) -> None:
        """Run a NUT instant command (``test.battery.start.quick``, ``shutdown.return``,
        ``shutdown.stop``...); raises a DriverError subclass when it cannot."""
        if not self._connected:
            self._connect()
            self._connected = True
        self._command(name)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._drop()

    def __enter__(self) -> Ups:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- helpers -------------------------------------------------------------------------
    def _drop(self) -> None:
        if self._connected:
            self._connected = False
            try:
                self._disconnect()
            except DriverError as exc:
                log.debug("UPS %s: error while disconnecting: %s", self.name, exc)

    def _failed(self, now: float, exc: DriverError) -> UpsReading:
        self._failures += 1
        delay = min(self.backoff_max, self.backoff_initial * 2 ** (self._failures - 1))
        self._retry_at = now + delay
        level = logging.WARNING if self._failures == 1 else logging.DEBUG
        log.log(level, "UPS %s: %s; data is stale, retrying in %.1f s", self.name, exc, delay,
                extra={"ups": self.name, "failures": self._failures})
        self._last = replace(self._last, stale=True, error=str(exc))
        return self._last

    # ---- backend hooks -------------------------------------------------------------------
    @abstractmethod
    def _connect(self) -> None:
        """Open the link and identify the UPS; raise UpsInitError/UpsTimeoutError."""

    @abstractmethod
    def _poll(self) -> UpsReading:
        """One fresh reading; raise a DriverError subclass on any failure."""

    @abstractmethod
    def _command(self, name: str) -> None:
        """Run one instant command."""

    @abstractmethod
    def _disconnect(self) -> None:
        """Close the link."""
