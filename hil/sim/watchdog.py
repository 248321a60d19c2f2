"""A Linux watchdog device (/dev/watchdog), simulated, optionally served on a UNIX socket.

Semantics follow the kernel's watchdog API (Documentation/watchdog/watchdog-api.rst):
opening the device arms the timer; every write pets it; writing the magic
character ``V`` just before closing stops it ("magic close"); closing
without it leaves the timer running, so a process that dies (kill -9) lets
the watchdog fire. Only one opener at a time (a second gets EBUSY: here the
connection is closed at once).

Over the socket, a connection is one open of the device, each byte received
is one write, and EOF is the close. When the timer fires the simulated board
drops its relay coils (see :class:`hil.sim.board.SimBoard`); the fired state
latches until the device is opened again, as a board whose relays stay
de-energised until the system reboots.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable

from hil.sim.unix_server import ThreadedUnixServer

log = logging.getLogger("hil.sim.watchdog")


class SimWatchdog:
    """The watchdog timer."""

    def __init__(self, timeout: float = 2.0, *, now: Callable[[], float] = time.monotonic) -> None:
        self.timeout = timeout
        self.now = now
        self.armed = False
        self.fired = False
        self.is_open = False
        self.last_pet = 0.0
        self.pets = 0
        self._expect_close = False
        self.lock = threading.RLock()

    def open(self) -> bool:
        with self.lock:
            if self.is_open:
                return False  # EBUSY
            self.is_open = True
            self.armed = True
            self.fired = False
            self.last_pet = self.now()
            self._expect_close = False
            return True

    def write(self, data: bytes) -> None:
        with self.lock:
            if not self.is_open or self.expired():
                return
            self.last_pet = self.now()
            self.pets += 1
            self._expect_close = b"V" in data  # any V in the write (watchdog_dev.c)

    def close(self) -> None:
        with self.lock:
            if not self.is_open:
                return
            self.is_open = False
            if self._expect_close:
                self.armed = False
            else:
                log.warning("watchdog: device closed unexpectedly, timer not stopped")

    def expired(self) -> bool:
        with self.lock:
            if self.armed and not self.fired and self.now() - self.last_pet > self.timeout:
                self.fired = True
                log.warning("watchdog: timer expired after %.1f s without a pet", self.timeout)
            return self.fired


class WatchdogServer(ThreadedUnixServer):
    """Serves a :class:`SimWatchdog` on a UNIX stream socket at ``path``."""

    def __init__(self, watchdog: SimWatchdog, path: str) -> None:
        self.watchdog = watchdog
        super().__init__(path, "sim-watchdog")

    def admit(self, conn: socket.socket) -> bool:
        return self.watchdog.open()  # False (EBUSY): somebody has the device open

    def serve(self, conn: socket.socket) -> None:
        conn.settimeout(0.1)
        with conn:
            while not self.stopping:
                try:
                    data = conn.recv(64)
                except TimeoutError:
                    continue
                except OSError:
                    break
                if not data:
                    break
                self.watchdog.write(data)
        self.watchdog.close()
