"""Agents and their states (ACD-3, MON-3)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from appliance.calls.channel import Channel


class AgentState(enum.Enum):
    LOGGED_OUT = "logged_out"
    IDLE = "idle"  # logged in, ready for a call
    RINGING = "ringing"
    TALKING = "talking"
    WRAPUP = "wrapup"  # after-call work
    PAUSED = "paused"  # AUX, with a reason


@dataclass(eq=False)
class Agent:
    id: str
    name: str = ""
    device: str = ""
    skills: dict[str, int] = field(default_factory=dict)
    wrapup: float | None = None
    state: AgentState = AgentState.LOGGED_OUT
    state_since: float = 0.0  # monotonic
    login_at: float = 0.0
    pause_reason: str = ""
    pending_pause: str = ""  # pause asked for during a call, taken after wrap-up
    retired: bool = False  # removed from the configuration; logged out after its call
    idle_since: float = 0.0  # for 'leastrecent': end of the last call (or login)
    active_device: str = ""
    leg: Channel | None = None  # the agent's current device leg

    @property
    def logged_in(self) -> bool:
        return self.state is not AgentState.LOGGED_OUT

    @property
    def available(self) -> bool:
        return self.state is AgentState.IDLE
