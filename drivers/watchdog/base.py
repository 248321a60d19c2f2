"""The hardware watchdog contract (Linux watchdog API, Documentation/watchdog/watchdog-api.rst).

:meth:`Watchdog.open` arms the timer; :meth:`Watchdog.pet` is one keepalive
write; :meth:`Watchdog.disarm` is the magic close (write ``V``, then close),
used only for an orderly stop when the relays are already in lifeline.
:meth:`Watchdog.close` without disarming leaves the timer running, exactly as
a crashed process would: the board then drops the relays by itself.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod

from drivers.watchdog.errors import WatchdogError

log = logging.getLogger("drivers.watchdog")


class Watchdog(ABC):
    def __init__(self, name: str) -> None:
        self.name = name
        self.is_open = False
        self.pets = 0

    def open(self) -> None:
        if not self.is_open:
            self._open()
            self.is_open = True

    def pet(self) -> None:
        if not self.is_open:
            raise WatchdogError(f"watchdog {self.name}: pet while not open")
        self._write(b"\0")
        self.pets += 1

    def disarm(self) -> None:
        """Magic close: the timer stops (watchdog-api.rst "Magic Close feature")."""
        if not self.is_open:
            return
        try:
            self._write(b"V")
        finally:
            self.is_open = False
            self._close()

    def close(self) -> None:
        """Close without the magic character: the timer keeps running (safe twice)."""
        if self.is_open:
            self.is_open = False
            log.warning("watchdog %s closed without disarming: it will fire", self.name)
            self._close()

    @property
    def timeout(self) -> float | None:
        return self._get_timeout()

    @abstractmethod
    def _open(self) -> None: ...

    @abstractmethod
    def _write(self, data: bytes) -> None: ...

    @abstractmethod
    def _close(self) -> None: ...

    def _get_timeout(self) -> float | None:
        return None
