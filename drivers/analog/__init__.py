"""Analog ports: FXO (facing a carrier line) and FXS (feeding a phone).

``open_analog("dahdi:5", "fxo")`` or ``open_analog("sim:/run/appliance/sim/line1.sock",
"fxs")`` returns a :class:`~drivers.analog.base.FxoPort` or
:class:`~drivers.analog.base.FxsPort`; the backend is imported only when asked for.
"""

from __future__ import annotations

from typing import Literal, overload

from drivers.analog.base import AnalogPort, FxoPort, FxsPort, PortEvent, PortEventType, PortKind
from drivers.analog.errors import AnalogPortError, AnalogPortInitError, DahdiAbsentError
from drivers.registry import BackendRegistry, DeviceAddress

FXO_REGISTRY = BackendRegistry(
    "fxo", {"sim": "drivers.analog.sim:SimFxoPort", "dahdi": "drivers.analog.dahdi:DahdiFxoPort"})
FXS_REGISTRY = BackendRegistry(
    "fxs", {"sim": "drivers.analog.sim:SimFxsPort", "dahdi": "drivers.analog.dahdi:DahdiFxsPort"})


@overload
def open_analog(address: str, kind: Literal["fxo"], name: str = "") -> FxoPort: ...


@overload
def open_analog(address: str, kind: Literal["fxs"], name: str = "") -> FxsPort: ...


def open_analog(address: str, kind: PortKind, name: str = "") -> AnalogPort:
    """Open the FXO or FXS port at a configured ``address``."""
    registry = FXO_REGISTRY if kind == "fxo" else FXS_REGISTRY
    parsed = DeviceAddress.parse(address)
    backend = registry.resolve(parsed)
    port: AnalogPort = backend(parsed, name)
    return port


__all__ = [
    "FXO_REGISTRY", "FXS_REGISTRY", "AnalogPort", "AnalogPortError", "AnalogPortInitError",
    "DahdiAbsentError", "FxoPort", "FxsPort", "PortEvent", "PortEventType", "PortKind",
    "open_analog",
]
