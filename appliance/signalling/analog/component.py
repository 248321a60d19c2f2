"""The analog FXO/FXS ports inside appliance-telephonyd.

Builds the :class:`AnalogSwitch` from ``[[rig.ports]]`` once the media engine
exists, reads every port's frame and line events just before each engine
tick, hands the engine's events to the switch, and serves ``ports.list``,
``ports.show`` and ``ports.busy_out`` with ``port.state`` events
(docs/control-protocol.md).
"""

from __future__ import annotations

from typing import Any

from appliance.media.component import MediaComponent
from appliance.media.events import MediaEvent
from appliance.runtime.service import Component, Service
from appliance.signalling.analog.service import build_switch, control_methods
from appliance.signalling.analog.switch import AnalogSwitch


class PortsComponent(Component):
    name = "ports"

    def __init__(self, media: MediaComponent) -> None:
        self._media = media
        self.switch: AnalogSwitch | None = None

    async def start(self, service: Service) -> None:
        engine = self._media.engine
        assert engine is not None, "the media component starts first"
        self.switch = build_switch(service.config.rig.ports, service.clock, engine, bus=service.bus)
        self._media.before_tick.append(self.switch.receive)
        self._media.listeners.append(self._on_media_event)
        for method, (handler, needs) in control_methods(self.switch).items():
            service.control.register(method, handler, needs=needs)

    def _on_media_event(self, event: MediaEvent) -> None:
        if self.switch is not None:
            self.switch.on_media_event(event)

    async def stop(self) -> None:
        if self.switch is not None:
            if self.switch.receive in self._media.before_tick:
                self._media.before_tick.remove(self.switch.receive)
            self.switch.close()
            self.switch = None

    def status(self) -> dict[str, Any]:
        if self.switch is None:
            return {}
        return {row["name"]: row["state"] for row in self.switch.status()}
