"""The board on a Linux I2C adapter (i2c-dev), through smbus2: ``i2c:/dev/i2c-1``."""

from __future__ import annotations

from typing import Any

import smbus2

from drivers.board.base import LifelineBoard
from drivers.board.errors import BoardInitError
from drivers.registry import DeviceAddress


class I2cBoard(LifelineBoard):
    @classmethod
    def from_address(cls, address: DeviceAddress, **kwargs: Any) -> I2cBoard:
        path = address.target or "/dev/i2c-1"
        try:
            bus = smbus2.SMBus(path)
        except OSError as exc:
            raise BoardInitError(f"I2C bus {path}: cannot open: {exc}") from exc
        return cls(bus, **kwargs)
