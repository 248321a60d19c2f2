"""appliance-telephonyd: cards, signalling, media, IVR, ACD and recording."""

from __future__ import annotations

from collections.abc import Sequence

from appliance.config import ApplianceConfig
from appliance.runtime.service import Component, daemon_main


def components(config: ApplianceConfig) -> list[Component]:
    """The telephony daemon's components, in start order."""
    return []


def main(argv: Sequence[str] | None = None) -> int:
    return daemon_main("telephonyd", components, argv)


if __name__ == "__main__":
    raise SystemExit(main())
