"""appliance-telephonyd: cards, signalling, media, IVR, ACD and recording."""

from __future__ import annotations

from collections.abc import Sequence

from appliance.config import ApplianceConfig
from appliance.media.component import MediaComponent
from appliance.runtime.continuity import ContinuityComponent
from appliance.runtime.service import Component, daemon_main
from appliance.signalling.analog.component import PortsComponent
from appliance.signalling.pri.component import SpansComponent
from appliance.signalling.pri.media import EngineMediaPort


def components(config: ApplianceConfig) -> list[Component]:
    """The telephony daemon's components, in start order (media first: spans feed it)."""
    media = MediaComponent()

    def media_port() -> EngineMediaPort | None:
        return EngineMediaPort(media.engine) if media.engine is not None else None

    return [media, SpansComponent(media_port), PortsComponent(media), ContinuityComponent()]


def main(argv: Sequence[str] | None = None) -> int:
    return daemon_main("telephonyd", components, argv)


if __name__ == "__main__":
    raise SystemExit(main())
