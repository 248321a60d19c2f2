"""Calls placed from the box's own phones: click-to-dial, and a number keyed on a phone.

``calls.originate`` (docs/control-protocol.md): FROM is an agent id or a
phone (port name or extension); TO is an extension or an outside number,
which goes out on the outbound route (``external:NUMBER``, the first trunk
of ``[calls] outbound_trunks`` that takes it). :class:`ClickToDial` rings the
phone first and dials once it answers; :class:`PhoneCall` is a number keyed on
a phone already off-hook (an extension, or an outside number after the access
code), reported by its technology through ``TechnologyRegistry.dialled``. Both
are outbound calls of the call model: their CDR names the phone as caller, the
dialled number as callee, the trunk used and the agent logged in there
(STAT-A1 counts it); the phone hears ringback until the far end answers.
"""

from __future__ import annotations

import logging

from appliance.calls.channel import (
    CAUSE_NO_ANSWER,
    CAUSE_NORMAL_CLEARING,
    CAUSE_USER_BUSY,
    Channel,
)
from appliance.calls.model import Call, CallManager
from appliance.runtime.clock import TimerHandle

log = logging.getLogger("appliance.calls")

CAUSE_UNALLOCATED_NUMBER = 1  # ITU-T Q.850 cause 1
NO_ANSWER_S = 60.0  # a dialled party that rings this long is given up (Q.850 cause 19)


class PlacedCall:
    """An outbound call from one of our phones to ``target`` (an extension or
    ``external:NUMBER``); it is the listener of both its legs. ``number`` is what the
    user asked for (the CDR's callee)."""

    def __init__(self, calls: CallManager, phone: Channel, target: str, number: str, *,
                 agent: str = "", agent_name: str = "", no_answer_s: float = NO_ANSWER_S) -> None:
        self.calls = calls
        self.target = target
        self.no_answer_s = no_answer_s
        self.second: Channel | None = None
        self._no_answer: TimerHandle | None = None
        phone.set_listener(self)
        self.call: Call = calls.new_call(phone, direction="outbound")
        self.call.agent = agent
        self.call.caller_name = agent_name
        self.call.origin_number = phone.dnis or phone.caller  # the phone's own number
        self.call.target_number = number

    def _dial_target(self) -> None:
        """The phone is off-hook: call the number, with ringback to the phone meanwhile."""
        try:
            self.second = self.calls.switch.originate(self.target, self.call.origin_number, self)
        except ValueError as exc:
            log.warning(
                "originate %s: %s", self.target, exc, extra={"call_id": self.call.call_id}
            )
            self.calls.end(self.call, "FAILED", CAUSE_UNALLOCATED_NUMBER)
            return
        self.call.outbound_trunk = self.second.trunk
        self.calls.add_leg(self.call, self.second)
        self.call.channel.play("ringback", loop=True)
        self._no_answer = self.calls.clock.call_later(self.no_answer_s, self._give_up)

    def _give_up(self) -> None:
        """Nobody answered in ``no_answer_s``: the caller hears the call fail."""
        if not self.call.ended and self.call.bridge is None:
            log.info("originate %s: no answer in %.0f s", self.target, self.no_answer_s,
                     extra={"call_id": self.call.call_id})
            self.calls.end(self.call, "NO ANSWER", CAUSE_NO_ANSWER)

    def on_answered(self, channel: Channel) -> None:
        if channel is self.second:
            if self._no_answer is not None:
                self._no_answer.cancel()
            self.call.channel.stop_play()
            self.calls.answer(self.call)  # (no-op if answered at the agent's pick-up)
            self.calls.connect(self.call, [self.call.channel, channel])

    def on_hangup(self, channel: Channel, cause: int) -> None:
        if self._no_answer is not None:
            self._no_answer.cancel()
        if not self.call.ended:
            disposition = (
                "ANSWERED"
                if self.call.bridge is not None
                else ("BUSY" if cause == CAUSE_USER_BUSY else "NO ANSWER")
            )
            self.calls.end(self.call, disposition, cause or CAUSE_NORMAL_CLEARING)

    def on_digit(self, channel: Channel, digit: str) -> None:
        """Digits during a placed call are the far end's business, not ours."""

    def on_play_done(self, channel: Channel, prompt: str) -> None:
        """Only the looped ringback is played; nothing follows its end."""


class ClickToDial(PlacedCall):
    """Click-to-dial: ``device`` (the agent's phone) rings first, showing the number it
    will call; ``target`` is dialled once it answers."""

    def __init__(self, calls: CallManager, device: str, target: str, number: str, *,
                 agent: str = "", agent_name: str = "") -> None:
        first = calls.switch.originate(device, number, self)  # the phone shows whom it calls
        super().__init__(calls, first, target, number, agent=agent, agent_name=agent_name)

    def on_answered(self, channel: Channel) -> None:
        if channel is self.call.channel and self.second is None:  # the agent picked up
            self.calls.answer(self.call)  # answered when the agent's phone is (the CDR's)
            self._dial_target()
        else:
            super().on_answered(channel)


class PhoneCall(PlacedCall):
    """A number keyed on a phone that is off-hook already: dialled at once."""

    def __init__(self, calls: CallManager, phone: Channel, target: str, number: str, *,
                 agent: str = "", agent_name: str = "") -> None:
        super().__init__(calls, phone, target, number, agent=agent, agent_name=agent_name)
        self._dial_target()
