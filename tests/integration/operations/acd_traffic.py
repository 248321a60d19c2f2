"""Scenario steps shared by the agent and supervision scenarios: a customer reaches an agent."""

from __future__ import annotations

from typing import Any

from operations_rig import Appliance, until


def agent(appliance: Appliance, agent_id: str) -> dict[str, Any]:
    """``agents list --json`` row of ``agent_id``."""
    rows = appliance.ctl_json("agents", "list")["agents"]
    return next(a for a in rows if a["agent"] == agent_id)


def key_into_queue(appliance: Appliance, call: int, caller: str) -> dict[str, Any]:
    """The customer keys 1 at the menu (again, if the first digit came before the menu
    listened) until the call leaves the IVR; returns its ``calls list`` row."""
    def queued() -> dict[str, Any] | None:
        row = appliance.live_call(caller)
        if row["state"] == "ivr":
            appliance.sim("e1a", "dtmf", call=call, digits="1")
            return None
        return row

    return until(queued, timeout=30, what=f"the call from {caller} past the menu")


def talking_to(appliance: Appliance, agent_id: str, caller: str, channel: int) -> int:
    """A customer on the E1 span keys 1 and ``agent_id``'s phone answers; the sim's call id."""
    call = appliance.e1_call(channel=channel, calling=caller)
    key_into_queue(appliance, call, caller)
    until(lambda: agent(appliance, agent_id)["state"] == "talking", timeout=30,
          what=f"agent {agent_id} talking")
    return call


def ada_with_a_customer(box: Appliance, caller: str, channel: int = 1) -> tuple[int, str]:
    """Span up, agent 1001 (Ada) on fxs1, a customer on the E1 talking to her: the
    simulator's call and the appliance's call id."""
    box.span_up()
    box.ctl("agents", "login", "1001", "fxs1")
    call = talking_to(box, "1001", caller, channel=channel)
    return call, str(box.live_call(caller)["call_id"])


def caller_hears(box: Appliance, call: int, hz: int) -> float:
    """The share of the last second the E1 caller heard that is a tone of ``hz``."""
    return float(box.sim("e1a", "heard", call=call, seconds=1.0, hz=hz)["share"])


def port_state(box: Appliance, name: str) -> str:
    """``ports list`` state of port ``name``."""
    return str(next(p for p in box.ctl_json("ports", "list")["ports"]
                    if p["name"] == name)["state"])


def rung(box: Appliance, phone: str, rings_before: int, what: str) -> None:
    """Wait until ``phone`` has had a ring burst since it counted ``rings_before`` (or was
    answered): its ``ringing`` is true only during the on-part of the cadence, which a
    poll on a loaded machine can miss."""
    until(lambda: (s := box.sim(phone, "status"))["rings"] > rings_before or s["off_hook"],
          what=what)


def rings(box: Appliance, phone: str) -> int:
    return int(box.sim(phone, "status")["rings"])
