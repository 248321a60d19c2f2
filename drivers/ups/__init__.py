"""UPS drivers: NUT's upsd over the network, or a Megatec (Q1) UPS on a serial port.

Addresses: ``nut://UPSNAME@HOST:PORT?user=U&password=P`` or
``serial:/dev/ttyS1?protocol=megatec&cells=12&runtimecal=240,100,720,50``, or
``sim:/run/appliance/sim/power.ups.tty`` (the simulator's pty, Megatec).
"""

from __future__ import annotations

from typing import Any

from drivers.registry import BackendRegistry, DeviceAddress
from drivers.ups.base import KNOWN_FLAGS, Ups, UpsReading
from drivers.ups.errors import UpsInitError, UpsOperationError, UpsProtocolError, UpsTimeoutError

REGISTRY = BackendRegistry(
    "ups",
    {
        "nut": "drivers.ups.nut:NutUps",
        "serial": "drivers.ups.megatec:MegatecUps",
        # the hil UPS simulator is a Megatec UPS on a pty: sim:RUN_DIR/power.ups.tty
        "sim": "drivers.ups.megatec:MegatecUps",
    },
)


def open_ups(address: str, **kwargs: Any) -> Ups:
    """The UPS at ``address`` (not yet connected: the first :meth:`Ups.read` connects)."""
    parsed = DeviceAddress.parse(address)
    backend: Any = REGISTRY.resolve(parsed)
    ups: Ups = backend.from_address(parsed, **kwargs)
    return ups


__all__ = [
    "KNOWN_FLAGS",
    "REGISTRY",
    "Ups",
    "UpsInitError",
    "UpsOperationError",
    "UpsProtocolError",
    "UpsReading",
    "UpsTimeoutError",
    "open_ups",
]
