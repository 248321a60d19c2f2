"""The lifeline board: relays (PCA9555), input rail (INA219), temperature (LM75), EEPROM (AT24).

Addresses: ``i2c:/dev/i2c-1`` (smbus2 on the Linux adapter) or
``sim:/path/board.sock`` (the hil simulator).
"""

from __future__ import annotations

from typing import Any

from drivers.board.base import LifelineBoard, RailReading, SMBusLike
from drivers.board.errors import BoardError, BoardInitError, RelayStuckError
from drivers.board.identity import BoardIdentity, PairPins
from drivers.registry import BackendRegistry, DeviceAddress

REGISTRY = BackendRegistry(
    "board", {"i2c": "drivers.board.i2c:I2cBoard", "sim": "drivers.board.sim:SimBoard"}
)


def open_board(address: str, **kwargs: Any) -> LifelineBoard:
    """The board at ``address``, not yet opened (call :meth:`LifelineBoard.open`)."""
    parsed = DeviceAddress.parse(address)
    backend: Any = REGISTRY.resolve(parsed)
    board: LifelineBoard = backend.from_address(parsed, **kwargs)
    return board


__all__ = [
    "REGISTRY",
    "BoardError",
    "BoardIdentity",
    "BoardInitError",
    "LifelineBoard",
    "PairPins",
    "RailReading",
    "RelayStuckError",
    "SMBusLike",
    "open_board",
]
