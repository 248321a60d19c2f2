"""Click-to-dial: ring the agent's phone first, then call the number and join them.

``calls.originate`` (docs/control-protocol.md): FROM is an agent id or an FXS
phone (port name or extension); TO is an FXS extension or an outside number
dialled on an idle carrier line. The call is an outbound call of the call
model, so it gets its CDR with the agent's name (STAT-A1 counts it).
"""

from __future__ import annotations

import logging

from appliance.calls.channel import CAUSE_NORMAL_CLEARING, Channel
from appliance.calls.model import Call, CallManager

log = logging.getLogger("appliance.calls")


class ClickToDial:
    """One originated call; it is the listener of both its legs."""

    def __init__(self, calls: CallManager, device: str, number: str, agent: str = "") -> None:
        self.calls = calls
        self.number = number
        self.second: Channel | None = None
        first = calls.switch.originate(device, number, self)
        self.call: Call = calls.new_call(first, direction="outbound")
        self.call.agent = agent

    def on_answered(self, channel: Channel) -> None:
        if channel is self.call.channel:  # the agent picked up: now call the number
            self.calls.answer(self.call)
            target = (
                self.number
                if self.number.isdigit() and self._is_extension()
                else f"external:{self.number}"
            )
            try:
                self.second = self.calls.switch.originate(target, self.call.caller or "", self)
            except ValueError as exc:
                log.warning(
                    "originate %s: %s", self.number, exc, extra={"call_id": self.call.call_id}
                )
                self.calls.end(self.call, "FAILED", 1)  # Q.850 1: unallocated number
                return
            self.calls.add_leg(self.call, self.second)
            channel.play("ringback", loop=True)
        elif channel is self.second:
            self.call.channel.stop_play()
            self.calls.connect(self.call, [self.call.channel, channel])

    def _is_extension(self) -> bool:
        switch = self.calls.switch
        analog = getattr(switch, "analog", None)
        return analog is not None and analog.switch.by_extension(self.number) is not None

    def on_hangup(self, channel: Channel, cause: int) -> None:
        if not self.call.ended:
            disposition = (
                "ANSWERED"
                if self.call.bridge is not None
                else ("BUSY" if cause == 17 else "NO ANSWER")
            )
            self.calls.end(self.call, disposition, cause or CAUSE_NORMAL_CLEARING)

    def on_digit(self, channel: Channel, digit: str) -> None:
        """Digits during a placed call are the far end's business, not ours."""

    def on_play_done(self, channel: Channel, prompt: str) -> None:
        """Only the looped ringback is played; nothing follows its end."""
