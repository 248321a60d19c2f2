"""The simulated watchdog (hil/sim/watchdog.py) on a UNIX socket: ``sim:/path/watchdog.sock``.

One connection is one open of the device, each byte sent one write, the
connection's end the close; the simulator applies the kernel's semantics.
"""

from __future__ import annotations

import socket
from typing import Any

from drivers.registry import DeviceAddress
from drivers.watchdog.base import Watchdog
from drivers.watchdog.errors import WatchdogError, WatchdogInitError


class SimWatchdog(Watchdog):
    def __init__(self, path: str) -> None:
        super().__init__(f"sim:{path}")
        self.path = path
        self._sock: socket.socket | None = None

    @classmethod
    def from_address(cls, address: DeviceAddress, **kwargs: Any) -> SimWatchdog:
        if not address.target:
            raise WatchdogInitError(
                f"watchdog address {address.text!r}: 'sim:' needs the simulator socket path"
            )
        return cls(address.target, **kwargs)

    def _open(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(1.0)
        try:
            sock.connect(self.path)
        except OSError as exc:
            sock.close()
            raise WatchdogInitError(f"watchdog simulator {self.path}: {exc}") from exc
        self._sock = sock

    def _write(self, data: bytes) -> None:
        if self._sock is None:
            raise WatchdogError(f"watchdog {self.path}: not open")
        try:
            self._sock.sendall(data)
        except OSError as exc:
            raise WatchdogError(f"watchdog simulator {self.path}: {exc}") from exc

    def _close(self) -> None:
        if self._sock is not None:
            sock, self._sock = self._sock, None
            sock.close()
