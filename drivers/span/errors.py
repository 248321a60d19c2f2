"""Errors of the span drivers (python-can style: generic classes, caught by callers)."""

from __future__ import annotations

from drivers.errors import (
    DahdiAbsentError,
    DriverError,
    DriverInitError,
    DriverOperationError,
    DriverTimeoutError,
)

__all__ = ["DahdiAbsentError", "SpanError", "SpanInitError", "SpanLinkLost", "SpanOperationError",
           "SpanTimeoutError"]


class SpanError(DriverError):
    """Root of every span driver error."""


class SpanInitError(SpanError, DriverInitError):
    """The span could not be opened or configured."""


class SpanOperationError(SpanError, DriverOperationError):
    """An operation on an open span failed."""


class SpanLinkLost(SpanOperationError):
    """The far side of the span's D-channel or TDM link closed (POLLHUP/EOF)."""


class SpanTimeoutError(SpanError, DriverTimeoutError):
    """The span did not answer in time."""
