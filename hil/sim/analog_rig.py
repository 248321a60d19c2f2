"""An in-process rig of analog ports, their simulators, the media engine and a virtual clock.

Each port is a real ``sim:`` backend port joined to its simulator by a
SOCK_SEQPACKET socketpair (the same wire as a hil process), so tests run the
whole path: simulator -> socket -> driver -> state machine -> media engine ->
driver -> socket -> simulator, 20 ms of virtual time per :meth:`AnalogRig.step`.
"""

from __future__ import annotations

from collections.abc import Callable

from appliance.media.engine import MediaEngine
from appliance.media.events import MediaEvent
from appliance.runtime.clock import VirtualClock
from appliance.signalling.analog.channel import AnalogCallEvent
from appliance.signalling.analog.fxo import FxoChannel, FxoSettings
from appliance.signalling.analog.fxs import FxsChannel, FxsSettings
from appliance.signalling.analog.switch import AnalogSwitch
from drivers.analog.hookswitch import HookTiming
from drivers.analog.sim import SimFxoPort, SimFxsPort
from hil.sim.analog_link import AnalogSimDevice, pair
from hil.sim.phone import AnalogPhone
from hil.sim.pstn import LineConfig, PstnLine

TICK = 0.02


class AnalogRig:
    def __init__(self, capacity: int = 32) -> None:
        self.clock = VirtualClock()
        self.engine = MediaEngine(capacity=capacity, on_event=self._media_event)
        self.events: list[AnalogCallEvent] = []
        self.switch = AnalogSwitch(self.clock, self.engine, on_event=self.events.append)
        self.devices: list[AnalogSimDevice] = []

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
