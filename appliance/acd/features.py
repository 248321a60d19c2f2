"""Agent feature codes keyed on an FXS phone (ACD-3): log in, log out, pause, resume.

With the default ``[acd.feature_codes]``: ``*51`` + agent id logs that agent
in at the phone that dialled; ``*52`` logs out the agent at this phone;
``*53`` pauses with the first configured reason, ``*53`` + n with the n-th;
``*54`` resumes. The analog signalling hands the dialled digits of an FXS
port to :func:`feature_code` and plays the returned prompt.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from appliance.acd.engine import Acd, AcdError

log = logging.getLogger("appliance.acd")


@dataclass(frozen=True)
class FeatureResult:
    ok: bool
    prompt: str  # confirmation or error prompt to play to the phone
    message: str  # for the log and the console


def agent_at(acd: Acd, device: str) -> str | None:
    """The agent logged in at the phone ``device`` names (``201`` and ``fxs1`` are one)."""
    phone = acd.phone_of(device)
    for agent in acd.agents.values():
        if agent.logged_in and acd.phone_of(agent.active_device) == phone:
            return agent.id
    return None


def is_feature_code(acd: Acd, digits: str) -> bool:
    codes = acd.config.feature_codes
    return any(
        digits.startswith(c) for c in (codes.login, codes.logout, codes.pause, codes.unpause)
    )


def feature_code(acd: Acd, device: str, digits: str) -> FeatureResult:
    """Carry out the feature code ``digits`` dialled on ``device``."""
    codes = acd.config.feature_codes
    try:
        if digits.startswith(codes.login):
            agent = digits[len(codes.login) :]
            if not agent:
                raise AcdError(f"{codes.login} needs the agent id after it")
            acd.login(agent, device)
            return _done(f"agent {agent} logged in at {device}", "agent-loggedin")
        agent_id = agent_at(acd, device)
        if agent_id is None:
            raise AcdError(f"no agent is logged in at {device}")
        if digits == codes.logout:
            acd.logout(agent_id)
            return _done(f"agent {agent_id} logged out", "agent-loggedoff")
        if digits.startswith(codes.pause):
            rest = digits[len(codes.pause) :]
            index = int(rest) if rest.isdigit() else 1
            reasons = acd.config.pause_reasons
            if not 1 <= index <= len(reasons):
                raise AcdError(f"pause reason {rest} unknown; use 1..{len(reasons)}")
            acd.pause(agent_id, reasons[index - 1])
            return _done(f"agent {agent_id} paused ({reasons[index - 1]})", "agent-paused")
        if digits == codes.unpause:
            acd.unpause(agent_id)
            return _done(f"agent {agent_id} available", "agent-unpaused")
        raise AcdError(f"{digits} is not a feature code")
    except AcdError as exc:
        log.warning(
            "feature code %s on %s refused: %s", digits, device, exc, extra={"device": device}
        )
        return FeatureResult(False, "feature-error", str(exc))


def _done(message: str, prompt: str) -> FeatureResult:
    log.info(message)
    return FeatureResult(True, prompt, message)
