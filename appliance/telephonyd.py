"""appliance-telephonyd: cards, signalling, media, IVR, ACD and recording."""

from __future__ import annotations

from collections.abc import Sequence

from appliance.acd.logins import AgentLoginsComponent
from appliance.calls.component import CallCenterComponent
from appliance.calls.technology import TechnologyRegistry
from appliance.config import ApplianceConfig
from appliance.media.component import MediaComponent
from appliance.recording.component import RecordingComponent
from appliance.runtime.continuity import ContinuityComponent
from appliance.runtime.service import Component, daemon_main
from appliance.signalling.analog.calls import AnalogCallsComponent
from appliance.signalling.analog.component import PortsComponent
from appliance.signalling.pri.calls import PriCallsComponent
from appliance.signalling.pri.component import SpansComponent
from appliance.signalling.sip.calls import SipCallsComponent
from appliance.stats.component import StatsCacheComponent


def components(config: ApplianceConfig) -> list[Component]:
    """The telephony daemon's components, in start order (media first: the others feed it).

    The call core starts before the technologies: each technology's component
    then registers its channel technology with the core's table (the order of
    registration is the order ``[calls] outbound_trunks = ["pri", "analog"]`` names).
    """
    media = MediaComponent()
    spans = SpansComponent(media)
    ports = PortsComponent(media)
    technologies = TechnologyRegistry()
    center = CallCenterComponent(media, technologies)
    pri = PriCallsComponent(media, spans, technologies)
    analog = AnalogCallsComponent(ports, technologies)
    sip = SipCallsComponent(media, technologies)
    recording = RecordingComponent(media, center)
    return [media, spans, ports, center, pri, analog, sip, AgentLoginsComponent(center),
            recording,
            StatsCacheComponent(), ContinuityComponent()]


def main(argv: Sequence[str] | None = None) -> int:
    return daemon_main("telephonyd", components, argv)


if __name__ == "__main__":
    raise SystemExit(main())
