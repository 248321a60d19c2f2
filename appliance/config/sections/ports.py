"""``[[rig.ports]]``: analog FXO (carrier line) and FXS (phone) ports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from appliance.config.sections.addresses import address_check
from appliance.config.validate import setting


@dataclass(frozen=True)
class PortEntry:
    name: str = setting(
        doc="Port name used in logs, the CLI and the console", pattern=r"[A-Za-z0-9_.-]{1,32}"
    )
    kind: Literal["fxo", "fxs"] = setting(doc="'fxo' faces a carrier line, 'fxs' feeds a phone")
    address: str = setting(
        doc="Device address: 'dahdi:CHANNEL' or 'sim:/path/to/port.sock'",
        check=address_check("dahdi", "sim"),
    )
