"""A small switch between analog channels: phone to phone, phone to carrier line.

It keeps who is talking to whom (``partner``), places calls dialled on an FXS
phone according to the dial plan rule that matched (``ext``: another FXS
port by extension; ``trunk``: the first idle FXO line, dialling the digits
after the rule's access code), passes hang-ups to the other side, and
implements hold/retrieve/transfer for hook-flash consultation (ACD-4).

Inbound carrier calls are reported to ``on_event`` (the call layer routes
them to the IVR/ACD); :meth:`ring_extension` connects one straight to a phone.
It also dispatches the media engine's events to the channel they concern.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import TYPE_CHECKING, Any

from appliance.media.engine import MediaEngine
from appliance.media.events import DtmfDigit, MediaEvent, PlaybackFinished
from appliance.runtime.clock import Clock
from appliance.runtime.events import EventBus
from appliance.signalling.analog.callerid import CallerId
from appliance.signalling.analog.channel import AnalogCallEvent, AnalogChannel, EventSink
from appliance.signalling.analog.dialplan import DialRule
from appliance.signalling.analog.fxo import FxoChannel, FxoState
from appliance.signalling.analog.fxs import FxsChannel, FxsState

if TYPE_CHECKING:
    from appliance.signalling.analog.calls import AnalogLegs

log = logging.getLogger("appliance.signalling.analog")


class AnalogSwitch:
    def __init__(self, clock: Clock, engine: MediaEngine, on_event: EventSink | None = None,
                 bus: EventBus | None = None, no_answer_s: float = 60.0) -> None:
        self.clock = clock
        self.no_answer_s = no_answer_s  # a phone rung from another phone rings this long
        self.bus = bus  # 'port.state' events for the control socket's subscribers
        self.engine = engine
        self.on_event = on_event
        self.channels: dict[str, AnalogChannel] = {}
        self._by_slot: dict[int, AnalogChannel] = {}
        self.partner: dict[str, AnalogChannel] = {}
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
        channel = self.channels.get(event.port)
        if isinstance(channel, FxoChannel):
            if event.kind == "disconnected":
                self._drop_partner(channel)
            elif event.kind == "failed" and channel.name in self.partner:
                origin = self.partner.pop(channel.name)
                self.partner.pop(origin.name, None)
                if isinstance(origin, FxsChannel):
                    origin.far_failed("congestion")
        if self.on_event is not None:
            self.on_event(event)

    def _link(self, a: AnalogChannel, b: AnalogChannel) -> None:
        self.partner[a.name] = b
        self.partner[b.name] = a

    def _drop_partner(self, channel: AnalogChannel) -> AnalogChannel | None:
        other = self.partner.pop(channel.name, None)
        if other is not None:
            self.partner.pop(other.name, None)
            self._clear(other)
        return other

    def _clear(self, channel: AnalogChannel) -> None:
        if isinstance(channel, FxsChannel):
            channel.far_cleared()
        elif isinstance(channel, FxoChannel):
            channel.disconnect()
            channel.hangup("the other party hung up")

    # -- calls placed from a phone ------------------------------------------------------
    def place(self, origin: FxsChannel, digits: str, rule: DialRule) -> None:
        """A number keyed on ``origin``: a call of the call core when one is attached
        (CDR, ``calls list``, recording, the outbound route's trunks); else, on a rig
        without a core, connected here."""
        if self.legs is not None and self.legs.dialled(origin, rule.destination(digits)):
            return
        if rule.target == "trunk":
            number = digits[rule.strip:] if rule.strip else digits
            line = next((c for c in self.fxo() if c.state is FxoState.IDLE), None)
            if line is None:
                log.warning("no idle carrier line for %s's call to %s", origin.name, number,
                            extra={"port": origin.name})
                origin.far_failed("congestion")
                return
            self._link(origin, line)
            if line.dial(number):
                origin.far_answered(line)  # the phone hears the line's own progress tones
            return
        target = self.by_extension(digits) if rule.target == "ext" else \
            self.channels.get(rule.target)
        if not isinstance(target, FxsChannel) or target is origin:
            origin.far_failed("unallocated number")
            return
        cid = CallerId(number=origin.extension, name=origin.name)
        if not target.offer(cid):
            origin.far_failed("busy")
            return
        self._link(origin, target)
        origin.far_ringing()
        self.clock.call_later(self.no_answer_s, self._no_answer, origin, target)

    def _no_answer(self, origin: FxsChannel, target: FxsChannel) -> None:
        if target.state is FxsState.RINGING and self.partner.get(target.name) is origin:
            log.info("port %s: no answer from %s in %.0f s", origin.name, target.name,
                     self.no_answer_s, extra={"port": origin.name})
            self.partner.pop(origin.name, None)
            self.partner.pop(target.name, None)
            target.cancel_offer()
            origin.far_failed("no answer")

    def ring_extension(self, line: AnalogChannel, extension: str,
                       caller_id: CallerId | None) -> bool:
        """Ring a phone for a call on ``line`` (e.g. an inbound carrier call)."""
        target = self.by_extension(extension)
        if target is None or not target.offer(caller_id):
            return False
        self._link(line, target)
        return True

    def answered(self, channel: FxsChannel) -> None:
        other = self.partner.get(channel.name)
        if other is None and self.legs is not None and channel.name in self.legs.legs:
            return  # rung by the call layer (an agent answering a queue call): it bridges
        if other is None:
            log.info("port %s answered but the caller has gone", channel.name,
                     extra={"port": channel.name})
            channel.far_cleared()
            return
        channel.connect(other)
        if isinstance(other, FxsChannel):
            other.far_answered(channel)

    def hung_up(self, channel: AnalogChannel) -> None:
        self._drop_partner(channel)

    def release(self, channel: AnalogChannel) -> None:
        """Clear a channel that has no partner any more (a held call abandoned)."""
        self._clear(channel)

    # -- hold, retrieve, transfer (hook-flash consultation) -----------------------------
    def recall(self, channel: FxsChannel, action: str, destination: str = "") -> str:
        """A hook flash on a phone whose call the call core holds (an agent's queue call):
        the core decides (RECALL_* of appliance.calls.technology); '' when it is not the
        core's call, and this switch's own hold/retrieve/transfer below apply."""
        if self.legs is None:
            return ""
        return self.legs.recall(channel.name, action, destination)

    def hold(self, channel: FxsChannel) -> AnalogChannel | None:
        """Hold ``channel``'s switch partner (None: it has none here)."""
        other = self.partner.pop(channel.name, None)
        if other is None:
            return None
        self.partner.pop(other.name, None)
        channel.disconnect()
        log.info("port %s: %s on hold", channel.name, other.name, extra={"port": channel.name})
        return other

    def retrieve(self, channel: FxsChannel, held: AnalogChannel) -> None:
        self._link(channel, held)
        channel.connect(held)

    def transfer(self, channel: FxsChannel, held: AnalogChannel) -> None:
        """``channel`` hangs up: join its held party to the party it consulted."""
        consulted = self.partner.pop(channel.name, None)
        if consulted is None:
            self._clear(held)
            return
        self.partner.pop(consulted.name, None)
        channel.disconnect()
        self._link(held, consulted)
        held.connect(consulted)
        log.info("port %s: transferred %s to %s", channel.name, held.name, consulted.name,
                 extra={"port": channel.name})

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
        """One port's snapshot with its switch partner."""
        snap = channel.status()
        leg = self.legs.legs.get(channel.name) if self.legs is not None else None
        if leg is not None and leg.call_id:
            snap["call_id"] = leg.call_id  # the call core's id, as calls list shows it
        partner = self.partner.get(channel.name)
        snap["partner"] = partner.name if partner else ""
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
