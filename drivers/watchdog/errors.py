"""Watchdog driver errors."""

from __future__ import annotations

from drivers.errors import DriverInitError, DriverOperationError


class WatchdogInitError(DriverInitError):
    """The watchdog device cannot be opened (absent, busy, no permission)."""


class WatchdogError(DriverOperationError):
    """A keepalive or the magic close failed."""
