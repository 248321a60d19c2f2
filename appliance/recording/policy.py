"""Which calls are recorded (REC-1): all, by queue, by agent, by number rule, or on demand."""

from __future__ import annotations

import re
from dataclasses import dataclass

from appliance.config.sections.recording import RecordingSection


@dataclass(frozen=True)
class CallInfo:
    """What the recorder knows of a call when it is connected to an agent."""

    call_id: str
    caller: str = ""
    dnis: str = ""
    agent: str = ""
    extension: str = ""
    queue: str = ""


class RecordingPolicy:
    """Decides from the configuration whether a call is recorded, and why."""

    def __init__(self, settings: RecordingSection) -> None:
        self.settings = settings
        self._numbers = [re.compile(p) for p in settings.numbers]

    def reason(self, call: CallInfo) -> str | None:
        """'all', 'queue', 'agent' or 'number' when the call is to be recorded, else None."""
        policy = self.settings.policy
        if policy == "none":
            return None
        if policy == "all":
            return "all"
        if call.queue and call.queue in self.settings.queues:
            return "queue"
        if call.agent and call.agent in self.settings.agents:
            return "agent"
        for pattern in self._numbers:
            if (call.caller and pattern.fullmatch(call.caller)) or (
                call.dnis and pattern.fullmatch(call.dnis)
            ):
                return "number"
        return None
