"""Analog ports as call legs of the call model (``appliance.calls.channel``).

:class:`AnalogLeg` wraps an FXO line call or an FXS phone so the IVR and ACD
drive it with the six actions and hear the four events of
:class:`appliance.calls.channel.Channel`:

* an FXO line answered by its state machine becomes an inbound leg
  (:meth:`AnalogLegs.inbound`, ``answer()`` is then a no-op);
* :meth:`AnalogLegs.originate` rings an FXS phone (``fxs:desk1`` or the
  port name, or an extension) or dials an external number on the first idle
  FXO line (``external:NUMBER``); :meth:`AnalogLegs.dial` dials on one named
  line, for the core's outbound route;
* prompts are looked up with the ``prompts`` callable and played by the media
  engine; a name of the tone plan (``dial``, ``busy``...) plays that tone;
* :meth:`AnalogLegs.bridge` connects analog legs' media in the engine.

:class:`AnalogLegs` is the ``analog`` channel technology of the call core
(:class:`appliance.calls.technology.Technology`); :class:`AnalogCallsComponent`
registers it with the daemon's technology table.

Hang-up causes follow ITU-T Q.850 (16 normal clearing, 17 user busy,
19 no answer, 21 call rejected).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from appliance.calls.channel import (
    CAUSE_CALL_REJECTED,
    CAUSE_NORMAL_CLEARING,
    CAUSE_TEXT,
    CAUSE_USER_BUSY,
    Channel,
    ChannelListener,
)
from appliance.calls.technology import (
    DialledHandler,
    RecallHandler,
    TechnologyRegistry,
    TrunkUnavailable,
)
from appliance.media.engine import ChannelHandle, MediaError
from appliance.media.prompts import Prompt
from appliance.runtime.service import Component, Service
from appliance.signalling.analog.callerid import CallerId
from appliance.signalling.analog.channel import AnalogCallEvent, AnalogChannel
from appliance.signalling.analog.component import PortsComponent
from appliance.signalling.analog.fxo import FxoChannel, FxoState
from appliance.signalling.analog.fxs import FxsChannel, FxsState
from appliance.signalling.analog.switch import AnalogSwitch

log = logging.getLogger("appliance.signalling.analog")

PromptLookup = Callable[[str], Prompt | None]


class AnalogLeg(Channel):
    """One analog port in a call."""

    def __init__(self, port: AnalogChannel, prompts: PromptLookup | None = None, *,
                 caller: str = "", dnis: str = "", trunk: str = "") -> None:
        super().__init__(port.name, caller=caller, dnis=dnis, trunk=trunk)
        self.port = port
        self._prompts = prompts
        self._playing = ""
        self.on_release: Callable[[AnalogLeg], None] | None = None

    def answer(self) -> None:
        if isinstance(self.port, FxoChannel) and self.port.state is FxoState.ALERTING:
            self.port.answer_now()
        elif isinstance(self.port, FxsChannel) and self.port.state is FxsState.CALLING:
            self.port.far_answered()  # the number this phone dialled answered

    def play(self, prompt: str, *, loop: bool = False) -> None:
        found = self._prompts(prompt) if self._prompts is not None else None
        self._playing = prompt
        tone = self.port.profile.tone(prompt) if found is None else None
        if tone is not None:  # a call-progress tone as the port's country sounds it
            self.port.play_tone(prompt, tone)
        elif not self.port.engine.play_named(self.port.handle, prompt, found, loop=loop):
            # a missing prompt must not strand the call: say so, and let the flow go on
            log.error("%s: no prompt or tone named %r; skipped", self.name, prompt,
                      extra={"port": self.name, "prompt": prompt})
            if not loop:
                self.port.clock.call_later(0.0, self.play_done, prompt)

    def stop_play(self) -> None:
        self._playing = ""
        self.port.stop_audio()

    @property
    def media(self) -> ChannelHandle | None:
        return self.port.handle

    def _release(self, cause: int) -> None:
        if self.on_release is not None:
            self.on_release(self)
        if isinstance(self.port, FxoChannel):
            self.port.disconnect()
            self.port.hangup(f"released by the call layer (cause {cause})")
        elif isinstance(self.port, FxsChannel):
            if self.port.state is FxsState.RINGING:
                self.port.cancel_offer()
            elif self.port.state is FxsState.CALLING:
                # the number this phone dialled did not answer: busy tone for Q.850 17 (user
                # busy), reorder for the rest (no circuit, unallocated number, failure)
                self.port.far_failed("busy" if cause == CAUSE_USER_BUSY
                                     else CAUSE_TEXT.get(cause, f"cause {cause}"))
            else:
                self.port.far_cleared()

    # -- from the port ----------------------------------------------------------
    def digit(self, digit: str) -> None:
        self._emit_digit(digit)

    def answered(self) -> None:
        self._emit_answered()

    def released(self, cause: int) -> None:
        """The far end (the line or the phone) has hung up."""
        self._emit_hangup(cause)

    def play_done(self, tag: str) -> None:
        if tag == self._playing:
            self._playing = ""
            self._emit_play_done(tag)


class AnalogLegs:
    """Creates and tracks :class:`AnalogLeg` s over an :class:`AnalogSwitch`: the
    ``analog`` technology of the call core (FXS phones as devices, FXO lines as trunks).

    Hook it in with ``switch.on_event = legs.on_event`` (it passes events on to
    ``forward``) and give it the media events of analog channels via
    :meth:`on_digit` / :meth:`on_play_done` (done by :meth:`AnalogSwitch.on_media_event`
    when ``switch.legs`` is set).
    """

    name = "analog"
    leg_type = AnalogLeg

    def __init__(self, switch: AnalogSwitch, prompts: PromptLookup | None = None,
                 on_inbound: Callable[[AnalogLeg], None] | None = None,
                 forward: Callable[[AnalogCallEvent], None] | None = None,
                 on_recall: RecallHandler | None = None,
                 on_dialled: DialledHandler | None = None) -> None:
        self.switch = switch
        self.prompts = prompts
        self.on_inbound = on_inbound
        self.on_recall = on_recall
        self.on_dialled = on_dialled
        self.forward = forward
        self.legs: dict[str, AnalogLeg] = {}
        switch.on_event = self.on_event
        switch.legs = self

    def inbound(self, line: FxoChannel) -> AnalogLeg:
        cid = line.caller_id
        return self._track(AnalogLeg(line, self.prompts, caller=cid.number if cid else "",
                                     trunk=line.name))

    def _track(self, leg: AnalogLeg) -> AnalogLeg:
        self.legs[leg.name] = leg
        leg.on_release = self._forget
        return leg

    def _forget(self, leg: AnalogLeg) -> None:
        self.legs.pop(leg.name, None)

    def _refused(self, leg: AnalogLeg, cause: int) -> AnalogLeg:
        # reported on the next clock turn, after the caller holds the returned leg
        self.switch.clock.call_later(0.0, leg.released, cause)
        return leg

    def _phone(self, device: str) -> FxsChannel | None:
        kind, _, target = device.partition(":")
        name = target if kind == "fxs" else device
        phone = self.switch.channels.get(name) or self.switch.by_extension(name)
        return phone if isinstance(phone, FxsChannel) else None

    def reaches(self, device: str) -> bool:
        return self._phone(device) is not None

    def device_name(self, device: str) -> str | None:
        phone = self._phone(device)
        return phone.name if phone is not None else None

    def trunks(self) -> list[str]:
        return [line.name for line in self.switch.fxo()]

    def dial(self, trunk: str, number: str, caller_id: str,
             listener: ChannelListener) -> AnalogLeg:
        """Seize FXO line ``trunk`` and dial ``number`` (a loop-start line sends no
        calling number: the exchange knows the line's own)."""
        line = self.switch.channels.get(trunk)
        if not isinstance(line, FxoChannel):
            raise TrunkUnavailable(f"no FXO line {trunk!r}")
        if line.state is not FxoState.IDLE:
            raise TrunkUnavailable(f"line {trunk} is {line.state.value}")
        leg = AnalogLeg(line, self.prompts, caller=caller_id, dnis=number, trunk=line.name)
        leg.set_listener(listener)
        if not line.dial(number):
            raise TrunkUnavailable(f"line {trunk} refused the seizure")
        return self._track(leg)

    def circuits(self) -> dict[str, dict[str, bool]]:
        return {line.name: {line.name: line.call_id is not None} for line in self.switch.fxo()}

    def originate(self, destination: str, caller_id: str,
                  listener: ChannelListener) -> Channel:
        """Ring an FXS phone, or dial ``external:NUMBER`` on the first idle FXO line."""
        kind, _, target = destination.partition(":")
        if kind == "external":
            lines = self.trunks()
            if not lines:
                raise ValueError(f"originate {destination!r}: no FXO line configured")
            for line in lines:
                try:
                    return self.dial(line, target, caller_id, listener)
                except TrunkUnavailable:
                    continue
            leg = AnalogLeg(self.switch.fxo()[0], self.prompts, dnis=target)
            leg.set_listener(listener)
            log.warning("originate %s: every carrier line is busy", destination)
            return self._refused(leg, CAUSE_USER_BUSY)
        phone = self._phone(destination)
        if phone is None:
            raise ValueError(f"originate: no FXS phone {destination!r}")
        leg = AnalogLeg(phone, self.prompts, caller=caller_id, dnis=phone.extension)
        leg.set_listener(listener)
        if not phone.offer(CallerId(number=caller_id)):
            log.info("originate %s: phone %s is not free (%s, %s)", destination, phone.name,
                     phone.state.value, "off-hook" if phone.port.off_hook else "on-hook",
                     extra={"port": phone.name})
            return self._refused(leg, CAUSE_USER_BUSY)
        return self._track(leg)

    def bridge(self, channels: Sequence[Channel]) -> AnalogBridge:
        return AnalogBridge(self, list(channels))

    # -- events --------------------------------------------------------------------
    def on_event(self, event: AnalogCallEvent) -> None:
        port = self.switch.channels.get(event.port)
        leg = self.legs.get(event.port)
        if isinstance(port, FxoChannel) and event.kind == "answered" and leg is None \
                and self.on_inbound is not None:
            self.on_inbound(self.inbound(port))
        elif leg is not None:
            if event.kind in ("answered", "connected") and not leg.hung_up:
                leg.answered()
            elif event.kind in ("disconnected", "onhook", "failed"):
                self.legs.pop(event.port, None)
                cause = CAUSE_CALL_REJECTED if event.kind == "failed" \
                    else CAUSE_NORMAL_CLEARING
                leg.released(cause)
        if self.forward is not None:
            self.forward(event)

    def dialled(self, phone: FxsChannel, destination: str) -> bool:
        """A number keyed on ``phone`` (``destination`` as the core names it: an extension
        or ``external:NUMBER``), handed to the call core as a new call from the phone;
        False when no core is attached (the switch then connects it itself)."""
        if self.on_dialled is None:
            return False
        leg = self._track(AnalogLeg(phone, self.prompts, caller=phone.extension,
                                    dnis=phone.extension))
        self.on_dialled(leg, destination)
        return True

    def recall(self, port: str, action: str, destination: str = "") -> str:
        """A hook flash (and what follows it) on a phone in a core call, for the core."""
        leg = self.legs.get(port)
        if leg is None or self.on_recall is None:
            return ""
        return self.on_recall(leg, action, destination)

    def on_digit(self, port: str, digit: str) -> None:
        leg = self.legs.get(port)
        if leg is not None:
            leg.digit(digit)

    def on_play_done(self, port: str, tag: str) -> None:
        leg = self.legs.get(port)
        if leg is not None:
            leg.play_done(tag)


class AnalogBridge:
    """Analog legs joined in the media engine (two: a bridge, more: a conference)."""

    def __init__(self, legs: AnalogLegs, channels: list[Channel]) -> None:
        self._legs = legs
        self._channels: list[Channel] = []
        for channel in channels:
            self.add(channel)

    @property
    def channels(self) -> Sequence[Channel]:
        return tuple(self._channels)

    def _port(self, channel: Channel) -> AnalogChannel:
        if not isinstance(channel, AnalogLeg):
            raise MediaError(f"{channel!r} is not an analog leg; bridge it in the call layer")
        return channel.port

    def add(self, channel: Channel) -> None:
        self._port(channel)
        self._channels.append(channel)
        self._rebuild()

    def remove(self, channel: Channel) -> None:
        if channel in self._channels:
            self._channels.remove(channel)
            self._legs.switch.engine.unbridge(self._port(channel).handle)
            self._rebuild()

    def destroy(self) -> None:
        for channel in list(self._channels):
            self.remove(channel)

    def _rebuild(self) -> None:
        ports = [self._port(c) for c in self._channels]
        if len(ports) == 2:
            ports[0].connect(ports[1])
        elif len(ports) > 2:
            for port in ports:
                port.stop_audio()
            self._legs.switch.engine.conference([p.handle for p in ports])


class AnalogCallsComponent(Component):
    """Registers the analog ports with the call core's technology table (telephonyd)."""

    name = "analog-calls"

    def __init__(self, ports: PortsComponent, registry: TechnologyRegistry) -> None:
        self._ports = ports
        self._registry = registry
        self.legs: AnalogLegs | None = None

    async def start(self, service: Service) -> None:
        switch = self._ports.switch
        assert switch is not None, "the ports component starts first"
        self.legs = AnalogLegs(switch, self._registry.prompt, on_inbound=self._registry.inbound,
                               on_recall=self._registry.recall,
                               on_dialled=self._registry.dialled)
        for phone in switch.fxs():
            phone.feature_handler = self._registry.feature
        self._registry.register(self.legs)

    async def stop(self) -> None:
        if self.legs is not None:
            self._registry.unregister(self.legs.name)
            self.legs = None

    def status(self) -> dict[str, Any]:
        return {"legs": len(self.legs.legs)} if self.legs is not None else {}
