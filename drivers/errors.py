"""Errors raised by every driver, in the manner of python-can's exceptions.

One root, :class:`DriverError`, carrying an ``error_code`` (an errno or a
vendor code when there is one) and split by when it happens: opening a device,
operating it, or waiting for it. Backend-specific errors inherit from these so
callers catch the generic classes only.
"""

from __future__ import annotations


class DriverError(Exception):
    """Root of every driver error."""

    def __init__(self, message: str, error_code: int | None = None) -> None:
        super().__init__(message)
        self.error_code = error_code

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base} [error {self.error_code}]" if self.error_code is not None else base


class DriverInitError(DriverError):
    """The device could not be opened or configured (absent, refused, bad address)."""


class DriverOperationError(DriverError):
    """An operation on an open device failed."""


class DriverTimeoutError(DriverError):
    """The device did not answer in time."""


class DahdiAbsentError(DriverInitError):
    """The DAHDI kernel modules are not loaded here (no /dev/dahdi, no span, no
    dahdi_cfg): every DAHDI backend, span or analog port, says so with this one class."""


class AddressError(DriverInitError):
    """A device address in the configuration is malformed or names no backend."""
