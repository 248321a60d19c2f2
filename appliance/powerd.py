"""appliance-powerd: UPS, board sensors, lifeline relays, watchdog, power policy."""

from __future__ import annotations

from collections.abc import Sequence

from appliance.config import ApplianceConfig
from appliance.power.component import PowerComponent
from appliance.runtime.service import Component, daemon_main


def components(config: ApplianceConfig) -> list[Component]:
    """The power daemon's components, in start order."""
    return [PowerComponent()]


def main(argv: Sequence[str] | None = None) -> int:
    return daemon_main("powerd", components, argv)


if __name__ == "__main__":
    raise SystemExit(main())
