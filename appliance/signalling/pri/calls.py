"""PRI calls as legs of the call model (:mod:`appliance.calls.channel`).

An inbound SETUP on a span becomes a :class:`PriLeg` handed to the
call-center core; the core answers it (Q.931 CONNECT), plays prompts and
tones on its B-channel through the media engine, hears its DTMF digits, and
releases it with a Q.850 cause. A far-end DISCONNECT reaches the core as
``on_hangup`` with the cause received.

:class:`PriLegs` is the ``pri`` channel technology of the call core
(:class:`appliance.calls.technology.Technology`): its trunks are the spans,
and :meth:`PriLegs.dial` places an outbound SETUP (Q.931 §5.1.1) on a span's
hunted B-channel; CONNECT from the network is ``on_answered``.
:class:`PriCallsComponent` registers it with the daemon's technology table.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from appliance.calls.channel import CAUSE_NORMAL_CLEARING, Channel, ChannelListener
from appliance.calls.technology import (
    TechnologyRegistry,
    TrunkUnavailable,
    leg_of,
    media_event_to_leg,
    play_on_engine,
    stop_on_engine,
)
from appliance.media.component import MediaComponent
from appliance.media.engine import ChannelHandle, MediaEngine
from appliance.media.events import MediaEvent
from appliance.media.prompts import Prompt
from appliance.runtime.service import Component, Service
from appliance.signalling.pri.call import PriCall
from appliance.signalling.pri.causes import reason_for
from appliance.signalling.pri.component import SpansComponent, reject_when_unrouted
from appliance.signalling.pri.media import EngineMediaPort
from appliance.signalling.pri.span import PriSpan
from drivers.span import SpanOperationError

log = logging.getLogger("appliance.pri")

PromptLookup = Callable[[str], Prompt | None]


class PriLeg(Channel):
    """One PRI call (one B-channel) in a call of the call-center core."""

    def __init__(self, legs: PriLegs, span: PriSpan, call: PriCall) -> None:
        super().__init__(
            f"{span.name}/B{call.channel}",
            caller=call.calling_number if call.presentation == "allowed" else "",
            dnis=call.called_number,
            trunk=span.name,
        )
        self._legs = legs
        self.span = span
        self.call = call

    @property
    def media(self) -> ChannelHandle | None:
        """The B-channel's media-engine channel (present once answered)."""
        if self.call.channel is None:
            return None
        return self._legs.media.handle(self.span.name, self.call.channel)

    def answer(self) -> None:
        if self.call.answered is None and not self.hung_up:
            self.span.answer(self.call)

    def play(self, prompt: str, *, loop: bool = False) -> None:
        play_on_engine(self._legs.engine, self, prompt, self._legs.prompts(prompt), loop=loop)

    def stop_play(self) -> None:
        stop_on_engine(self._legs.engine, self)

    def _release(self, cause: int) -> None:
        self._legs.forget(self)
        self.span.hangup(self.call, reason_for(cause))


class PriLegs:
    """Turns span calls into legs, and span and media events into leg events."""

    name = "pri"
    leg_type = PriLeg

    def __init__(
        self,
        engine: MediaEngine,
        media: EngineMediaPort,
        prompts: PromptLookup,
        on_inbound: Callable[[PriLeg], None],
        spans: Mapping[str, PriSpan] | None = None,
    ) -> None:
        self.engine = engine
        self.media = media
        self.prompts = prompts
        self.on_inbound = on_inbound
        self.spans: Mapping[str, PriSpan] = spans if spans is not None else {}
        self._legs: dict[tuple[str, int], PriLeg] = {}  # (span, call id) -> leg

    def core_call_id(self, span: str, number: int) -> str | None:
        """The call core's id of the call on libpri call ``number`` of ``span``."""
        leg = self._legs.get((span, number))
        return leg.call_id or None if leg is not None else None

    # -- the technology contract (appliance.calls.technology) ------------------------
    def reaches(self, device: str) -> bool:
        return False  # a PRI span carries trunk calls, no agent devices

    def device_name(self, device: str) -> str | None:
        return None

    def originate(self, device: str, caller_id: str, listener: ChannelListener) -> Channel:
        raise ValueError(f"originate: {device!r} is not a device on a PRI span")

    def trunks(self) -> list[str]:
        return list(self.spans)

    def dial(self, trunk: str, number: str, caller_id: str,
             listener: ChannelListener) -> PriLeg:
        """SETUP to ``number`` on span ``trunk``; TrunkUnavailable if it is down or full."""
        span = self.spans.get(trunk)
        if span is None:
            raise TrunkUnavailable(f"span {trunk} is not open")
        try:
            call = span.dial(number.removeprefix("+"), caller_id)
        except SpanOperationError as exc:
            raise TrunkUnavailable(str(exc)) from exc
        leg = PriLeg(self, span, call)
        leg.set_listener(listener)
        self._legs[(span.name, call.id)] = leg
        return leg

    def circuits(self) -> dict[str, dict[str, bool]]:
        return {
            name: {f"B{n}": channel.call is not None for n, channel in span.channels.items()}
            for name, span in self.spans.items()
        }

    def incoming(self, span: PriSpan, call: PriCall) -> None:
        """The span's ``on_incoming``: the caller hears ringing until the core answers."""
        span.alert(call)
        leg = PriLeg(self, span, call)
        self._legs[(span.name, call.id)] = leg
        self.on_inbound(leg)

    def __len__(self) -> int:
        return len(self._legs)

    def forget(self, leg: PriLeg) -> None:
        self._legs.pop((leg.span.name, leg.call.id), None)

    def call_changed(self, span: PriSpan, call: PriCall, what: str) -> None:
        """A span listener: DISCONNECT/RELEASE from the far end ends the leg."""
        leg = self._legs.get((span.name, call.id))
        if leg is None:
            return
        if what == "answered":  # CONNECT received for our SETUP (Q.931 §5.1.8)
            leg._emit_answered()
            return
        if what not in ("disconnected", "cleared"):
            return
        self.forget(leg)
        leg._emit_hangup(call.cause if call.cause is not None else CAUSE_NORMAL_CLEARING)

    def on_media_event(self, event: MediaEvent) -> None:
        leg = leg_of(self._legs.values(), event.channel)
        if leg is not None:
            media_event_to_leg(leg, event)


class PriCallsComponent(Component):
    """Registers the PRI spans with the call core's technology table (telephonyd)."""

    name = "pri-calls"

    def __init__(self, media: MediaComponent, spans: SpansComponent,
                 registry: TechnologyRegistry) -> None:
        self._media = media
        self._spans = spans
        self._registry = registry
        self.legs: PriLegs | None = None

    async def start(self, service: Service) -> None:
        engine = self._media.engine
        assert engine is not None, "the media component starts first"
        legs = PriLegs(engine, self._spans.media_port(), self._registry.prompt,
                       self._registry.inbound, spans=self._spans.spans)
        self._spans.on_incoming = legs.incoming
        self._spans.call_listeners.append(legs.call_changed)
        self._spans.core_call_id = legs.core_call_id
        self._media.listeners.append(legs.on_media_event)
        self._registry.register(legs)
        self.legs = legs

    async def stop(self) -> None:
        legs, self.legs = self.legs, None
        if legs is None:
            return
        self._registry.unregister(legs.name)
        self._spans.on_incoming = reject_when_unrouted
        if legs.call_changed in self._spans.call_listeners:
            self._spans.call_listeners.remove(legs.call_changed)
        if legs.on_media_event in self._media.listeners:
            self._media.listeners.remove(legs.on_media_event)

    def status(self) -> dict[str, Any]:
        return {"legs": len(self.legs)} if self.legs is not None else {}
