"""A line-interactive UPS speaking the Megatec (Q1) serial protocol, on a pty.

The protocol is the "Megatec UPS Protocol" document (the one NUT's
``nutdrv_qx`` ``megatec`` subdriver implements): 2400 8N1, every command ends
in CR, every reply ends in CR.

====== ================================================================
Q1     status: ``(MMM.M NNN.N PPP.P QQQ RR.R SS.S TT.T b7b6b5b4b3b2b1b0``
F      rating: ``#MMM.M QQQ SS.SS RR.R``
I      identity: ``#`` + company (15) + model (10) + version (10)
T      10 s battery test;  TL  test until battery low;  Tn  test n minutes
S<n>   shut the output down in n minutes (.2-.9, 01-10); ``S<n>R<m>`` restore after m
C      cancel shutdown;  CT  cancel test;  Q  toggle the beeper
====== ================================================================

Status bits (Q1, last field, b7 first): b7 utility fail, b6 battery low,
b5 AVR (bypass/boost) active, b4 UPS failed, b3 standby type (1) / on-line (0),
b2 test in progress, b1 shutdown active, b0 beeper on. A command the UPS does
not know is echoed back (Megatec protocol, "general rule").

The battery is a simple model: charge falls while on battery at a rate set by
the load and a Peukert-like runtime law (``runtime = r100 * (100/load)**k``
with k fixed by the runtime at 50 % load), and recovers while on mains. The
battery voltage moves linearly between the low and high per-cell voltages with
charge, as a lead-acid block roughly does under constant load.

Fault injection (a property of the simulated UPS, never a driver branch):
``reply_mode`` = ``"normal"``, ``"silent"`` (no reply at all), ``"truncated"``
(the Q1 reply cut short), ``"garbage"`` (bytes that are not a reply).

Limits: no baud-rate emulation (a pty has none), no outlet control, one
battery string.
"""

from __future__ import annotations

import contextlib
import math
import os
import select
import termios
import threading
import time
import tty
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

ReplyMode = Literal["normal", "silent", "truncated", "garbage"]


@dataclass
class MegatecUps:
    """The UPS itself: mains input, battery, output and the command interpreter."""

    now: Callable[[], float] = time.monotonic
    company: str = "HIL Power"
    model: str = "LI-1500"
    version: str = "V1.0"
    rated_voltage: float = 230.0
    rated_current: int = 7
    rated_frequency: float = 50.0
    cells: int = 12  # a 24 V string of two 12 V blocks
    cell_low: float = 1.75
    cell_high: float = 2.25
    runtime_full_load: float = 240.0  # seconds at 100 % load, full battery
    runtime_half_load: float = 720.0  # seconds at 50 % load, full battery
    recharge_time: float = 3600.0  # seconds from empty to full on mains
    low_battery_charge: float = 20.0  # % under which b6 (battery low) is set
    load: float = 30.0  # output load, %
    mains_voltage: float = 230.0
    frequency: float = 50.0
    temperature: float = 25.0
    mains_on: bool = True
    beeper: bool = True
    failed: bool = False
    reply_mode: ReplyMode = "normal"
    charge: float = 100.0
    log: list[str] = field(default_factory=list)
    _last: float = field(default=-1.0, init=False)
    _test_until: float | None = field(default=None, init=False)
    _test_to_low: bool = field(default=False, init=False)
    _shutdown_at: float | None = field(default=None, init=False)
    _restore_after: float | None = field(default=None, init=False)
    _restore_at: float | None = field(default=None, init=False)
    output_on: bool = field(default=True, init=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, init=False, repr=False)

    # ---- physics -------------------------------------------------------------------------
    def _exponent(self) -> float:
        return math.log(self.runtime_half_load / self.runtime_full_load) / math.log(2.0)

    def runtime_at(self, load: float, charge: float) -> float:
        """Seconds left at ``load`` % with ``charge`` % in the battery."""
        load = max(load, 1.0)
        full: float = self.runtime_full_load * (100.0 / load) ** self._exponent()
        return full * charge / 100.0

    def on_battery(self) -> bool:
        return not self.mains_on or self._test_until is not None

    def update(self) -> None:
        """Advance the battery and timers to ``now()``."""
        with self._lock:
            t = self.now()
            if self._last < 0:
                self._last = t
            dt = max(0.0, t - self._last)
            self._last = t
            if self._test_until is not None and (
                t >= self._test_until or (self._test_to_low and self.battery_low())
            ):
                self._test_until = None
            if self.on_battery() and self.output_on:
                full = self.runtime_at(self.load, 100.0)
                self.charge = max(0.0, self.charge - 100.0 * dt / full)
                if self.charge <= 0.0:
                    self.output_on = False
                    self.log.append("battery exhausted: output off")
            elif self.mains_on:
                self.charge = min(100.0, self.charge + 100.0 * dt / self.recharge_time)
            if self._shutdown_at is not None and t >= self._shutdown_at:
                self._shutdown_at = None
                self.output_on = False
                self.log.append("shutdown: output off")
                if self._restore_after is not None:
                    self._restore_at = t + self._restore_after
            if self._restore_at is not None and t >= self._restore_at and self.mains_on:
                self.output_on = True
                self._restore_at = None
                self.log.append("restore: output on")

    def battery_low(self) -> bool:
        return self.charge < self.low_battery_charge

    def battery_voltage(self) -> float:
        per_cell = self.cell_low + (self.cell_high - self.cell_low) * self.charge / 100.0
        if self.mains_on and self.charge >= 99.9:
            per_cell += 0.02  # float charge
        return per_cell * self.cells

    def set_mains(self, on: bool) -> None:
        with self._lock:
            self.update()
            self.mains_on = on
            self.log.append(f"mains {'on' if on else 'off'}")

    # ---- protocol ------------------------------------------------------------------------
    def status_line(self) -> str:
        """The Q1 reply without its CR."""
        self.update()
        v_in = self.mains_voltage if self.mains_on else 0.0
        v_out = self.mains_voltage if self.output_on else 0.0
        if self.on_battery() and self.output_on:
            v_out = self.rated_voltage
        bits = [
            self.on_battery(),  # b7 utility fail
            self.battery_low(),  # b6 battery low
            False,  # b5 AVR active
            self.failed,  # b4 UPS failed
            True,  # b3 standby (line-interactive) type
            self._test_until is not None,  # b2 test in progress
            self._shutdown_at is not None,  # b1 shutdown active
            self.beeper,  # b0 beeper on
        ]
        flags = "".join("1" if b else "0" for b in bits)
        freq = self.frequency if self.mains_on else 0.0
        load = self.load if self.output_on else 0.0
        return (
            f"({v_in:05.1f} {v_in:05.1f} {v_out:05.1f} {load:03.0f} {freq:04.1f} "
            f"{self.battery_voltage():04.1f} {self.temperature:04.1f} {flags}"
        )

    def handle(self, command: str) -> str | None:
        """Reply (without CR) to one command line, or None for no reply."""
        with self._lock:
            self.log.append(command)
            if self.reply_mode == "silent":
                return None
            reply = self._interpret(command)
            if reply is not None and self.reply_mode == "truncated" and command == "Q1":
                return reply[: len(reply) // 2]
            if reply is not None and self.reply_mode == "garbage":
                return "\x15#?!" + "x" * 7
            return reply

    def _interpret(self, command: str) -> str | None:
        self.update()
        t = self.now()
        if command == "Q1":
            return self.status_line()
        if command == "F":
            nominal = self.cells * 2.0
            return (
                f"#{self.rated_voltage:05.1f} {self.rated_current:03d} {nominal:05.2f} "
                f"{self.rated_frequency:04.1f}"
            )
        if command == "I":
            return f"#{self.company:<15.15} {self.model:<10.10} {self.version:<10.10}"
        if command == "T":
            self._test_until, self._test_to_low = t + 10.0, False
            return None
        if command == "TL":
            self._test_until, self._test_to_low = t + 24 * 3600.0, True
            return None
        if command == "CT":
            self._test_until = None
            return None
        if command == "Q":
            self.beeper = not self.beeper
            return None
        if command == "C":
            self._shutdown_at = None
            self._restore_after = None
            self._restore_at = None
            if not self.output_on and self.mains_on:
                self.output_on = True
            return None
        if command.startswith("T") and command[1:].isdigit():
            self._test_until, self._test_to_low = t + 60.0 * int(command[1:]), False
            return None
        if command.startswith("S"):
            delay = _parse_shutdown(command)
            if delay is not None:
                minutes, restore = delay
                self._shutdown_at = t + 60.0 * minutes
                self._restore_after = None if restore is None else 60.0 * restore
                return None
        return command  # unknown: echoed back


def _parse_shutdown(command: str) -> tuple[float, int | None] | None:
    """``S.3``, ``S05``, ``S.5R0010`` -> (minutes, restore minutes) per the Megatec S command."""
    body = command[1:]
    head, _, restore = body.partition("R")
    try:
        minutes = float(head)
    except ValueError:
        return None
    if not 0.2 <= minutes <= 10.0:
        return None
    if restore:
        if not restore.isdigit():
            return None
        return minutes, int(restore)
    return minutes, None


class MegatecPty:
    """Serves a :class:`MegatecUps` on a pseudo-terminal; ``port`` is the tty to open.

    A thread reads CR-terminated commands from the pty master and writes the
    replies. ``close()`` stops it (safe twice).
    """

    def __init__(self, ups: MegatecUps, reply_delay: float = 0.0) -> None:
        self.ups = ups
        self.reply_delay = reply_delay
        self._master, self._slave = os.openpty()
        tty.setraw(self._master)
        attrs = termios.tcgetattr(self._slave)
        attrs[3] &= ~(termios.ECHO | termios.ICANON)
        termios.tcsetattr(self._slave, termios.TCSANOW, attrs)
        self.port = os.ttyname(self._slave)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="megatec-pty", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        buffer = b""
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(self._master, 256)
            except OSError:
                continue  # no reader on the slave side yet (EIO): wait for one
            buffer += chunk
            while b"\r" in buffer:
                line, _, buffer = buffer.partition(b"\r")
                command = line.decode("ascii", "replace").strip("\n ")
                if not command:
                    continue
                reply = self.ups.handle(command)
                if reply is not None:
                    if self.reply_delay:
                        time.sleep(self.reply_delay)
                    os.write(self._master, reply.encode("ascii", "replace") + b"\r")

    def close(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join(timeout=1.0)
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):  # already closed
                os.close(fd)

    def __enter__(self) -> MegatecPty:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
