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
    CAUSE_UNALLOCATED_NUMBER,
    CAUSE_USER_BUSY,
    Channel,
)
from appliance.calls.model import Call, CallManager
from appliance.calls.technology import (
    RECALL_CONNECTED,
    RECALL_DIAL,
    RECALL_DIALTONE,
    RECALL_FLASH,
    RECALL_HANGUP,
    RECALL_HOLD,
    RECALL_RETRIEVE,
)
from appliance.runtime.clock import TimerHandle

log = logging.getLogger("appliance.calls")

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
        # a consultation by register recall: who flashed, whom it holds, whom it rings
        self.holder: Channel | None = None
        self.held: Channel | None = None
        self.consult: Channel | None = None
        self.gone: Channel | None = None  # the phone that handed its call over and left
        self.connected = False  # the dialled party answered
        phone.set_listener(self)
        self.call: Call = calls.new_call(phone, direction="outbound")
        self.call.agent = agent
        self.call.caller_name = agent_name
        self.call.origin_number = phone.dnis or phone.caller  # the phone's own number
        self.call.target_number = number

    def _dial_target(self) -> None:
        """The phone is off-hook: call the number, with ringback to the phone meanwhile."""
        try:
            self._check_toll(self.call.channel, self.target)
            self.second = self.calls.switch.originate(self.target, self.call.origin_number, self)
        except ValueError as exc:  # no such number, or one this phone may not call
            log.warning(
                "originate %s: %s", self.target, exc, extra={"call_id": self.call.call_id}
            )
            self.calls.end(self.call, "FAILED", getattr(exc, "cause", CAUSE_UNALLOCATED_NUMBER))
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

    def _check_toll(self, phone: Channel, target: str) -> None:
        """An outside number the person at ``phone`` chose: its class of service (SEC-4)."""
        if target.startswith("external:"):
            self.calls.toll.check(phone.name, target.removeprefix("external:"))

    def recall(self, leg: Channel, action: str, destination: str = "") -> str:
        """Register recall (hook flash) on one of our phones in this call, as a PBX does:
        the flash holds the other party (music on hold) and the phone gets dial tone;
        the number keyed is rung (ringback meanwhile) and talks to the phone; on-hook
        then hands the held party to it; a flash drops the consultation and takes the
        held party back. The phone's own hold and retrieve do the first and the last.
        '' when ``leg`` cannot do that now."""
        if self.call.ended or self.second is None or leg not in (self.call.channel, self.second):
            return ""
        if action == RECALL_HOLD:  # the phone's own hold key: a flash that never takes back
            return self.recall(leg, RECALL_FLASH) if self.held is None else ""
        if action == RECALL_RETRIEVE:
            return self._take_back() if self.held is not None and leg is self.holder else ""
        if action == RECALL_FLASH:
            if self.held is not None and leg is self.holder:
                return self._take_back()
            if self.held is None and self.call.bridge is not None:
                other = self.second if leg is self.call.channel else self.call.channel
                self.call.bridge.destroy()
                self.call.bridge = None
                other.hold()
                self.call.on_hold = True  # calls list: held
                self.holder, self.held = leg, other
                return RECALL_DIALTONE
            return ""
        if leg is not self.holder or self.held is None:
            return ""
        if action == RECALL_DIAL and self.consult is None:
            try:
                self._check_toll(leg, destination)
                self.consult = self.calls.switch.originate(destination, leg.dnis or leg.caller,
                                                           self)
            except ValueError as exc:
                log.info("consultation of %s refused: %s", destination, exc,
                         extra={"call_id": self.call.call_id})
                return ""
            self.calls.add_leg(self.call, self.consult)
            leg.play("ringback", loop=True)
            return RECALL_CONNECTED
        if action == RECALL_HANGUP:
            consult, held = self.consult, self.held
            if consult is not None and self.call.bridge is not None \
                    and consult in self.call.bridge.channels:  # answered: hand over
                self.gone, self.holder, self.held, self.consult = leg, None, None, None
                self.call.on_hold = False
                held.retrieve()
                self.calls.connect(self.call, [held, consult])
                log.info("%s handed %s over to %s", leg.name, held.name, consult.name,
                         extra={"call_id": self.call.call_id})
                return RECALL_CONNECTED
            self._take_back()  # nobody to hand over to: the on-hook then ends the call
        return ""

    def _take_back(self) -> str:
        """The phone that flashed drops its consultation and talks to the held party."""
        holder, held = self.holder, self.held
        assert holder is not None and held is not None
        if self.consult is not None:
            consult, self.consult = self.consult, None
            consult.set_listener(None)
            if self.call.bridge is not None:
                self.call.bridge.destroy()
                self.call.bridge = None
            consult.hangup(CAUSE_NORMAL_CLEARING)
            if consult in self.call.legs:
                self.call.legs.remove(consult)
        holder.stop_play()
        held.retrieve()
        self.call.on_hold = False
        self.holder = self.held = None
        self.calls.connect(self.call, [holder, held])
        return RECALL_CONNECTED

    def on_answered(self, channel: Channel) -> None:
        if channel is self.consult and self.holder is not None:
            self.holder.stop_play()
            self.calls.connect(self.call, [self.holder, channel])
            return
        if channel is self.second:
            if self._no_answer is not None:
                self._no_answer.cancel()
            self.connected = True
            self.call.channel.stop_play()
            self.calls.answer(self.call)  # (no-op if answered at the agent's pick-up)
            self.calls.connect(self.call, [self.call.channel, channel])

    def on_hangup(self, channel: Channel, cause: int) -> None:
        if channel is self.gone:  # the phone that handed the call over: the others talk on
            return
        if channel is self.consult:  # the consulted party hung up or never answered
            self.consult = None
            if self.call.bridge is not None:
                self.call.bridge.destroy()
                self.call.bridge = None
            if channel in self.call.legs:
                self.call.legs.remove(channel)
            if self.holder is not None:
                self.holder.stop_play()
            return
        if self._no_answer is not None:
            self._no_answer.cancel()
        if not self.call.ended:
            disposition = (
                "ANSWERED"
                if self.connected
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
        if target.startswith("external:"):  # refused before the agent's phone rings
            calls.toll.check(device, number)
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
