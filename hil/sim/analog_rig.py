"""An in-process rig of analog ports, their simulators, the media engine and a virtual clock.

Each port is a real ``sim:`` backend port joined to its simulator by a
SOCK_SEQPACKET socketpair (the same wire as a hil process), so tests run the
whole path: simulator -> socket -> driver -> state machine -> media engine ->
driver -> socket -> simulator, 20 ms of virtual time per :meth:`AnalogRig.step`.

:meth:`AnalogRig.attach_core` puts the daemon's call core over the ports, as
telephonyd does (the ``analog`` technology in a TechnologyRegistry, the
TelephonySwitch with its outbound route, the CallCenter with its IVR and ACD,
no database): a number keyed on a phone is then a call of the core, phone to
phone or out on a line, with hook-flash consultation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from appliance.calls.center import CallCenter
from appliance.calls.outbound import OutboundRoute
from appliance.calls.technology import TechnologyRegistry
from appliance.calls.telephony import TelephonySwitch
from appliance.config.sections.acd import AcdSection
from appliance.config.sections.ivr import IvrSection
from appliance.media.engine import MediaEngine
from appliance.media.events import MediaEvent
from appliance.runtime.clock import Clock, VirtualClock
from appliance.runtime.events import EventBus
from appliance.signalling.analog.calls import AnalogLegs
from appliance.signalling.analog.channel import AnalogCallEvent
from appliance.signalling.analog.fxo import FxoChannel, FxoSettings
from appliance.signalling.analog.fxs import FxsChannel, FxsSettings
from appliance.signalling.analog.switch import AnalogSwitch
from drivers.analog.hookswitch import HookTiming
from drivers.analog.sim import SimFxoPort, SimFxsPort
from hil.sim.analog_link import AnalogSimDevice, pair
from hil.sim.phone import AnalogPhone
from hil.sim.pstn import LineConfig, PstnLine
from hil.traffic.center import section

TICK = 0.02


def call_core(switch: AnalogSwitch, clock: Clock, engine: MediaEngine,
              forward: Callable[[AnalogCallEvent], None], acd: dict[str, Any] | None = None,
              ivr: dict[str, Any] | None = None) -> tuple[TechnologyRegistry, CallCenter]:
    """The call core over ``switch``'s ports as telephonyd's components wire it: the
    ``analog`` technology in a TechnologyRegistry, the TelephonySwitch with its outbound
    route, the CallCenter with the ``[acd]`` and ``[ivr]`` tables given (no database)."""
    registry = TechnologyRegistry()
    legs = AnalogLegs(switch, registry.prompt, on_inbound=registry.inbound, forward=forward,
                      on_recall=registry.recall, on_dialled=registry.dialled)
    registry.register(legs)
    telephony = TelephonySwitch(engine, registry, OutboundRoute(registry, clock, [legs.name]))
    center = CallCenter(section(AcdSection, acd or {}, "acd"),
                        section(IvrSection, ivr or {}, "ivr"), clock=clock, switch=telephony,
                        db=None, bus=EventBus(clock.time), devices=telephony.device_name)
    registry.on_inbound = center.incoming
    registry.on_dialled = center.dialled
    registry.on_recall = center.recall
    registry.on_feature = lambda device, digits: center.feature_code(device, digits).ok
    for phone in switch.fxs():
        phone.feature_handler = registry.feature
    return registry, center


class AnalogRig:
    def __init__(self, capacity: int = 32) -> None:
        self.clock = VirtualClock()
        self.engine = MediaEngine(capacity=capacity, on_event=self._media_event)
        self.events: list[AnalogCallEvent] = []
        self.switch = AnalogSwitch(self.clock, self.engine, on_event=self.events.append)
        self.devices: list[AnalogSimDevice] = []
        self.center: CallCenter | None = None
        self.registry: TechnologyRegistry | None = None

    def attach_core(self, acd: dict[str, Any] | None = None,
                    ivr: dict[str, Any] | None = None) -> CallCenter:
        """The call core over the ports, wired as telephonyd's components wire it."""
        self.registry, self.center = call_core(self.switch, self.clock, self.engine,
                                               self.events.append, acd, ivr)
        return self.center

    def _media_event(self, event: MediaEvent) -> None:
        self.switch.on_media_event(event)

    def add_line(self, name: str, line: LineConfig | None = None,
                 settings: FxoSettings | None = None) -> tuple[FxoChannel, PstnLine]:
        device = PstnLine(line)
        port = SimFxoPort.from_socket(pair(device), name)
        channel = FxoChannel(port, self.clock, self.engine, settings)
        self.switch.add(channel)
        self.devices.append(device)
        return channel, device

    def add_phone(self, name: str, settings: FxsSettings | None = None,
                  phone: AnalogPhone | None = None,
                  timing: HookTiming | None = None) -> tuple[FxsChannel, AnalogPhone]:
        device = phone or AnalogPhone(settings.country if settings else "CN")
        port = SimFxsPort.from_socket(pair(device), name, timing)
        channel = FxsChannel(port, self.clock, self.engine, settings)
        if self.registry is not None:
            channel.feature_handler = self.registry.feature
        self.switch.add(channel)
        self.devices.append(device)
        return channel, device

    def step(self, ticks: int = 1) -> None:
        for _ in range(ticks):
            self.switch.receive()
            self.engine.tick()
            for device in self.devices:
                device.serve()
            self.clock.advance(TICK)

    def run(self, seconds: float) -> None:
        self.step(round(seconds / TICK))

    def run_until(self, done: Callable[[], bool], timeout_s: float) -> float:
        """Step until ``done()``; returns the virtual seconds it took (raises on timeout)."""
        start = self.clock.monotonic()
        for _ in range(round(timeout_s / TICK)):
            if done():
                return self.clock.monotonic() - start
            self.step()
        if done():
            return self.clock.monotonic() - start
        raise TimeoutError(f"condition not met within {timeout_s} s of virtual time")

    def kinds(self, port: str) -> list[str]:
        return [e.kind for e in self.events if e.port == port]

    def close(self) -> None:
        for channel in self.switch.channels.values():
            channel.port.close()
        self.engine.close()
