"""The kernel watchdog device: ``dev:/dev/watchdog?timeout=10``."""

from __future__ import annotations

import fcntl
import os
import struct
from typing import Any

from drivers.registry import DeviceAddress
from drivers.watchdog.base import Watchdog
from drivers.watchdog.errors import WatchdogError, WatchdogInitError

# linux/watchdog.h: _IOWR('W', 6, int) and _IOR('W', 7, int)
WDIOC_SETTIMEOUT = 0xC0045706
WDIOC_GETTIMEOUT = 0x80045707


class DevWatchdog(Watchdog):
    def __init__(self, path: str = "/dev/watchdog", timeout: int | None = None) -> None:
        super().__init__(path)
        self.path = path
        self.requested_timeout = timeout
        self._fd: int | None = None

    @classmethod
    def from_address(cls, address: DeviceAddress, **kwargs: Any) -> DevWatchdog:
        timeout = address.option("timeout")
        try:
            seconds = int(timeout) if timeout else None
        except ValueError as exc:
            raise WatchdogInitError(f"watchdog address {address.text!r}: bad timeout") from exc
        return cls(address.target or "/dev/watchdog", timeout=seconds, **kwargs)

    def _open(self) -> None:
        try:
            self._fd = os.open(self.path, os.O_WRONLY)
        except OSError as exc:
            raise WatchdogInitError(f"watchdog {self.path}: cannot open: {exc}") from exc
        if self.requested_timeout:
            try:
                fcntl.ioctl(self._fd, WDIOC_SETTIMEOUT, struct.pack("i", self.requested_timeout))
            except OSError as exc:
                # opened but not configured: magic close so it does not fire with the old timeout
                os.write(self._fd, b"V")
                self._close()
                raise WatchdogInitError(f"watchdog {self.path}: cannot set timeout: {exc}") from exc

    def _write(self, data: bytes) -> None:
        if self._fd is None:
            raise WatchdogError(f"watchdog {self.path}: not open")
        try:
            os.write(self._fd, data)
        except OSError as exc:
            raise WatchdogError(f"watchdog {self.path}: write failed: {exc}") from exc

    def _close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    def _get_timeout(self) -> float | None:
        if self._fd is None:
            return None
        buf = fcntl.ioctl(self._fd, WDIOC_GETTIMEOUT, struct.pack("i", 0))
        value: int = struct.unpack("i", buf)[0]
        return float(value)
