"""Hardware watchdog: ``dev:/dev/watchdog?timeout=10`` or ``sim:/path/watchdog.sock``."""

from __future__ import annotations

from typing import Any

from drivers.registry import BackendRegistry, DeviceAddress
from drivers.watchdog.base import Watchdog
from drivers.watchdog.errors import WatchdogError, WatchdogInitError

REGISTRY = BackendRegistry(
    "watchdog",
    {"dev": "drivers.watchdog.dev:DevWatchdog", "sim": "drivers.watchdog.sim:SimWatchdog"},
)


def open_watchdog(address: str, **kwargs: Any) -> Watchdog:
    """The watchdog at ``address``, not yet armed (call :meth:`Watchdog.open`)."""
    parsed = DeviceAddress.parse(address)
    backend: Any = REGISTRY.resolve(parsed)
    watchdog: Watchdog = backend.from_address(parsed, **kwargs)
    return watchdog


__all__ = ["REGISTRY", "Watchdog", "WatchdogError", "WatchdogInitError", "open_watchdog"]
