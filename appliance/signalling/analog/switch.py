"""The analog ports of the box: membership, ticking, events, maintenance.

It holds the FXO lines and FXS phones, feeds them their frames, hands the
media engine's events to the channel they concern and reports the channels'
call events to ``on_event``. It does not connect calls: every call (phone to
phone, phone to carrier line, a carrier call to an agent) is a call of the
call core, reached through :class:`~appliance.signalling.analog.calls.AnalogLegs`
(``legs``): a number keyed on a phone goes to the core as
``TechnologyRegistry.dialled``, a hook flash as ``TechnologyRegistry.recall``.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import TYPE_CHECKING, Any

from appliance.media.engine import MediaEngine
from appliance.media.events import DtmfDigit, MediaEvent, PlaybackFinished
from appliance.runtime.clock import Clock
from appliance.runtime.events import EventBus
from appliance.signalling.analog.channel import AnalogCallEvent, AnalogChannel, EventSink
from appliance.signalling.analog.dialplan import DialRule
from appliance.signalling.analog.fxo import FxoChannel
from appliance.signalling.analog.fxs import FxsChannel, FxsState

if TYPE_CHECKING:
    from appliance.signalling.analog.calls import AnalogLegs

log = logging.getLogger("appliance.signalling.analog")


class AnalogSwitch:
    def __init__(self, clock: Clock, engine: MediaEngine, on_event: EventSink | None = None,
                 bus: EventBus | None = None) -> None:
        self.clock = clock
        self.bus = bus  # 'port.state' events for the control socket's subscribers
        self.engine = engine
        self.on_event = on_event
        self.channels: dict[str, AnalogChannel] = {}
        self._by_slot: dict[int, AnalogChannel] = {}
        self.events: deque[AnalogCallEvent] = deque(maxlen=200)  # recent, for diagnostics
        self.legs: AnalogLegs | None = None  # call-model legs (calls.py), when in use
        self.unavailable: dict[str, str] = {}  # configured ports that could not be opened

    # -- membership ----------------------------------------------------------------
    def add(self, channel: AnalogChannel) -> None:
        if channel.name in self.channels:
            raise ValueError(f"analog port {channel.name!r} is configured twice")
        self.channels[channel.name] = channel
        self._by_slot[channel.handle.slot] = channel
        channel.on_event = self._channel_event
        channel.state_listener = self._state_changed
        if isinstance(channel, FxsChannel):
            channel.switch = self

    def fxo(self) -> list[FxoChannel]:
        return [c for c in self.channels.values() if isinstance(c, FxoChannel)]

    def fxs(self) -> list[FxsChannel]:
        return [c for c in self.channels.values() if isinstance(c, FxsChannel)]

    def by_extension(self, number: str) -> FxsChannel | None:
        for channel in self.fxs():
            if channel.extension and channel.extension == number:
                return channel
        return None

    # -- ticking ------------------------------------------------------------------
    def receive(self) -> None:
        """Every port's received frame and events, before the engine ticks."""
        for channel in self.channels.values():
            channel.receive()

    def on_media_event(self, event: MediaEvent) -> bool:
        """Hand an engine event to its channel; False if it is not an analog channel's."""
        channel = self._by_slot.get(event.channel.slot)
        if channel is None or channel.handle is not event.channel:
            return False
        channel.on_media_event(event)
        if self.legs is not None:
            if isinstance(event, DtmfDigit):
                self.legs.on_digit(channel.name, event.digit)
            elif isinstance(event, PlaybackFinished) and event.reason == "done":
                self.legs.on_play_done(channel.name, event.tag)
        return True

    def _state_changed(self, channel: AnalogChannel, previous: str, reason: str) -> None:
        if self.bus is not None:
            line = channel.port.status()
            self.bus.publish("port.state", name=channel.name, kind=channel.port.kind,
                             state=channel.state.value, previous=previous, reason=reason,
                             hook="off" if line.get("off_hook") else "on",
                             battery=bool(line.get("battery", True)), call_id=channel.call_id)

    # -- events from channels ----------------------------------------------------------
    def _channel_event(self, event: AnalogCallEvent) -> None:
        self.events.append(event)
        if self.on_event is not None:
            self.on_event(event)

    # -- calls of the call core -----------------------------------------------------------
    def place(self, origin: FxsChannel, digits: str, rule: DialRule) -> None:
        """A number keyed on ``origin``: a new call of the call core (CDR, ``calls list``,
        recording, the outbound route's trunks); congestion when no core is attached."""
        if self.legs is not None and self.legs.dialled(origin, rule.destination(digits)):
            return
        log.warning("port %s: no call core to place the call to %s", origin.name, digits,
                    extra={"port": origin.name})
        origin.far_failed("congestion")

    def answered(self, channel: FxsChannel) -> None:
        """A phone rung by the call core picked up (the core bridges it); a phone whose
        caller has gone meanwhile is told so."""
        if self.legs is not None and channel.name in self.legs.legs:
            return
        log.info("port %s answered but the caller has gone", channel.name,
                 extra={"port": channel.name})
        channel.far_cleared()

    def recall(self, channel: FxsChannel, action: str, destination: str = "") -> str:
        """A hook flash (and what follows it) on a phone in a call of the call core: the
        core decides (RECALL_* of appliance.calls.technology); '' when it takes none."""
        if self.legs is None:
            return ""
        return self.legs.recall(channel.name, action, destination)

    # -- maintenance (OPS-1) ------------------------------------------------------------
    def busy_out(self, name: str, on: bool = True) -> dict[str, Any]:
        """Busy a port out (``on``) or return it to service; returns its PORT row.

        Raises KeyError for a port the switch does not have. A port in a call is
        blocked when that call ends (``busied_out`` is true meanwhile).
        """
        channel = self.channels[name]
        if on:
            channel.busy_out()
        else:
            channel.return_to_service()
        return self.row(channel)

    def row(self, channel: AnalogChannel) -> dict[str, Any]:
        """One port's snapshot with the call core's id of its call."""
        snap = channel.status()
        leg = self.legs.legs.get(channel.name) if self.legs is not None else None
        if leg is not None and leg.call_id:
            snap["call_id"] = leg.call_id  # the call core's id, as calls list shows it
        return snap

    def status(self) -> list[dict[str, Any]]:
        """One snapshot per port, for the control socket and appliancectl."""
        out = [self.row(channel) for channel in self.channels.values()]
        for name, why in self.unavailable.items():
            out.append({"name": name, "port": name, "state": "unavailable", "error": why})
        return out

    def close(self) -> None:
        """Close every port (daemon shutdown); safe twice."""
        for channel in self.channels.values():
            channel.port.close()


__all__ = ["AnalogSwitch", "FxsState"]
