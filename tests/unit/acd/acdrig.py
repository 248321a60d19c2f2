"""Scenario helpers for the ACD tests: a SimCenter with agents on simulated phones."""

from __future__ import annotations

from typing import Any

from hil.traffic.center import SimCenter
from hil.traffic.switch import SimChannel


def make_center(
    strategy: str = "linear",
    agents: int = 3,
    *,
    queues: list[dict[str, Any]] | None = None,
    agent_skills: dict[str, dict[str, int]] | None = None,
    login: bool = True,
    seed: int = 1,
    **queue: Any,
) -> SimCenter:
    ids = [str(1001 + i) for i in range(agents)]
    skills = agent_skills or {}
    agent_rows = [{"id": a, "device": f"dev{a}", "skills": skills.get(a, {})} for a in ids]
    if queues is None:
        queues = [{"name": "sales", "strategy": strategy, "members": ids, **queue}]
    center = SimCenter({"queues": queues, "agents": agent_rows}, seed=seed)
    if login:
        for a in ids:
            center.acd.login(a)
    return center


def ringing_agents(center: SimCenter) -> list[str]:
    return [
        leg.destination[3:]
        for leg in center.switch.legs
        if leg.destination.startswith("dev") and not leg.answered and not leg.hung_up
    ]


def answer(center: SimCenter, agent: str) -> SimChannel:
    legs = center.switch.ringing(f"dev{agent}")
    assert legs, f"agent {agent} is not ringing"
    legs[-1].far_answer()
    return legs[-1]


def serve(center: SimCenter, queue: str = "sales", talk: float = 60.0, caller: str = "0301") -> str:
    """Place a call, let the agent that rings answer, talk, hang up; returns that agent."""
    center.queue_call(queue, caller)
    rung = ringing_agents(center)
    assert len(rung) == 1, rung
    leg = answer(center, rung[0])
    center.clock.advance(talk)
    leg.far_hangup()
    center.clock.advance(1.0)
    return rung[0]
