"""Click-to-dial: ring the agent's phone first, then call the number and join them.

``calls.originate`` (docs/control-protocol.md): FROM is an agent id or a
phone (port name or extension); TO is an extension or an outside number,
which goes out on the outbound route (``external:NUMBER``, the first trunk
of ``[calls] outbound_trunks`` that takes it). The call is an outbound call
of the call model; its CDR names the agent's phone as caller, the dialled
number as callee, the trunk used and the agent's name (STAT-A1 counts it).
"""

from __future__ import annotations

import logging

from appliance.calls.channel import CAUSE_NORMAL_CLEARING, CAUSE_USER_BUSY, Channel
from appliance.calls.model import Call, CallManager

log = logging.getLogger("appliance.calls")

CAUSE_UNALLOCATED_NUMBER = 1  # ITU-T Q.850 cause 1


class ClickToDial:
    """One originated call; it is the listener of both its legs.

    ``device`` is the phone rung first, ``target`` what is dialled once it
    answers (an extension, or ``external:NUMBER``), ``number`` the number the
    user asked for (the CDR's callee).
    """

    def __init__(self, calls: CallManager, device: str, target: str, number: str, *,
                 agent: str = "", agent_name: str = "") -> None:
        self.calls = calls
        self.target = target
        self.second: Channel | None = None
        first = calls.switch.originate(device, number, self)  # the phone shows whom it calls
        self.call: Call = calls.new_call(first, direction="outbound")
        self.call.agent = agent
        self.call.caller_name = agent_name
        self.call.origin_number = first.dnis  # the agent phone's own number
        self.call.target_number = number

    def on_answered(self, channel: Channel) -> None:
        if channel is self.call.channel:  # the agent picked up: now call the number
            self.calls.answer(self.call)
            try:
                self.second = self.calls.switch.originate(self.target, self.call.caller, self)
            except ValueError as exc:
                log.warning(
                    "originate %s: %s", self.target, exc, extra={"call_id": self.call.call_id}
                )
                self.calls.end(self.call, "FAILED", CAUSE_UNALLOCATED_NUMBER)
                return
            self.call.outbound_trunk = self.second.trunk
            self.calls.add_leg(self.call, self.second)
            channel.play("ringback", loop=True)
        elif channel is self.second:
            self.call.channel.stop_play()
            self.calls.connect(self.call, [self.call.channel, channel])

    def on_hangup(self, channel: Channel, cause: int) -> None:
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
