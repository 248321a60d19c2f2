"""UPS driver errors (see drivers.errors for the hierarchy)."""

from __future__ import annotations

from drivers.errors import DriverInitError, DriverOperationError, DriverTimeoutError


class UpsInitError(DriverInitError):
    """The UPS could not be reached or identified (port absent, upsd refused the login)."""


class UpsOperationError(DriverOperationError):
    """A query or command failed: the UPS or upsd answered with an error."""


class UpsProtocolError(UpsOperationError):
    """A reply that does not follow the protocol (malformed or truncated)."""


class UpsTimeoutError(DriverTimeoutError):
    """The UPS or upsd did not answer in time (silent serial line, hung server)."""
