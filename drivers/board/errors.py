"""Board (I2C) driver errors."""

from __future__ import annotations

from drivers.errors import DriverInitError, DriverOperationError


class BoardInitError(DriverInitError):
    """The bus cannot be opened, or the EEPROM identity is missing or corrupt."""


class BoardError(DriverOperationError):
    """An I2C transfer failed (NACK, bus error) or a chip answered nonsense."""


class RelayStuckError(BoardError):
    """A relay's auxiliary contact does not follow its coil."""
