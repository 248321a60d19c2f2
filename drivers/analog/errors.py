"""Errors of the analog port drivers (FXO and FXS).

They subclass the generic :mod:`drivers.errors` classes so callers above the
driver seam catch only those.
"""

from __future__ import annotations

from drivers.errors import DahdiAbsentError, DriverInitError, DriverOperationError

__all__ = ["AnalogPortError", "AnalogPortInitError", "DahdiAbsentError", "PortStateError"]


class AnalogPortError(DriverOperationError):
    """An operation on an open FXO/FXS port failed."""


class AnalogPortInitError(DriverInitError):
    """An FXO/FXS port could not be opened (absent, wrong signalling, bad address)."""


class PortStateError(AnalogPortError):
    """A method was called in a state where it makes no sense (e.g. ringing an off-hook phone)."""
