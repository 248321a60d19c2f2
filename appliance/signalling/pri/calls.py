"""PRI calls as legs of the call model (:mod:`appliance.calls.channel`).

An inbound SETUP on a span becomes a :class:`PriLeg` handed to the
call-center core; the core answers it (Q.931 CONNECT), plays prompts and
tones on its B-channel through the media engine, hears its DTMF digits, and
releases it with a Q.850 cause. A far-end DISCONNECT reaches the core as
``on_hangup`` with the cause received.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from appliance.calls.channel import CAUSE_NORMAL_CLEARING, Channel
from appliance.media.engine import ChannelHandle, MediaEngine, MediaError
from appliance.media.events import DtmfDigit, MediaEvent, PlaybackFinished
from appliance.media.prompts import Prompt
from appliance.signalling.pri.call import PriCall
from appliance.signalling.pri.causes import reason_for
from appliance.signalling.pri.media import EngineMediaPort
from appliance.signalling.pri.span import PriSpan

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
    def handle(self) -> ChannelHandle | None:
        """The B-channel's media-engine channel (present once answered)."""
        if self.call.channel is None:
            return None
        return self._legs.media.handle(self.span.name, self.call.channel)

    def answer(self) -> None:
        if self.call.answered is None and not self.hung_up:
            self.span.answer(self.call)

    def play(self, prompt: str, *, loop: bool = False) -> None:
        handle = self.handle
        if handle is None:
            raise MediaError(f"{self.name}: not answered, nothing to play on")
        engine = self._legs.engine
        found = self._legs.prompts(prompt)
        if found is not None:
            engine.play_samples(handle, found.samples, tag=prompt, loop=loop, barge_in=not loop)
        elif prompt in engine.tone_names():
            engine.play_tone(handle, prompt)
        else:
            # a missing prompt must not strand the caller: say so, and let the flow go on
            log.error(
                "%s: no prompt or tone named %r; skipped",
                self.name,
                prompt,
                extra={"channel": self.name, "prompt": prompt},
            )
            if not loop:
                asyncio.get_running_loop().call_soon(self._emit_play_done, prompt)

    def stop_play(self) -> None:
        handle = self.handle
        if handle is not None and self._legs.engine.playing(handle) is not None:
            self._legs.engine.stop_playback(handle)

    def hangup(self, cause: int = CAUSE_NORMAL_CLEARING) -> None:
        if self.hung_up:
            return
        self.hung_up = True
        self._legs.forget(self)
        self.span.hangup(self.call, reason_for(cause))


class PriLegs:
    """Turns span calls into legs, and span and media events into leg events."""

    def __init__(
        self,
        engine: MediaEngine,
        media: EngineMediaPort,
        prompts: PromptLookup,
        on_inbound: Callable[[PriLeg], None],
    ) -> None:
        self.engine = engine
        self.media = media
        self.prompts = prompts
        self.on_inbound = on_inbound
        self._legs: dict[tuple[str, int], PriLeg] = {}  # (span, call id) -> leg

    def incoming(self, span: PriSpan, call: PriCall) -> None:
        """The span's ``on_incoming``: the caller hears ringing until the core answers."""
        span.alert(call)
        leg = PriLeg(self, span, call)
        self._legs[(span.name, call.id)] = leg
        self.on_inbound(leg)

    def forget(self, leg: PriLeg) -> None:
        self._legs.pop((leg.span.name, leg.call.id), None)

    def call_changed(self, span: PriSpan, call: PriCall, what: str) -> None:
        """A span listener: DISCONNECT/RELEASE from the far end ends the leg."""
        leg = self._legs.get((span.name, call.id))
        if leg is None or what not in ("disconnected", "cleared"):
            return
        self.forget(leg)
        leg._emit_hangup(call.cause if call.cause is not None else CAUSE_NORMAL_CLEARING)

    def on_media_event(self, event: MediaEvent) -> None:
        leg = next((g for g in self._legs.values() if g.handle is event.channel), None)
        if leg is None:
            return
        if isinstance(event, DtmfDigit):
            leg._emit_digit(event.digit)
        elif isinstance(event, PlaybackFinished) and event.reason in ("done", "barge-in"):
            leg._emit_play_done(event.tag)
