"""ACD benchmark: routing decision time at scale, and simulated calls per CPU-second.

1. 500 agents, 2000 calls waiting: the time to choose the agent(s) for the
   head call (pure decision, every strategy), and the full cycle when an
   agent becomes available (decision, ringing, queue_log row), median and p99.
2. ``hil traffic``: simulated calls (through IVR, queue, agent, wrap-up) per
   CPU-second in virtual time.

Run: .venv/bin/python bench/acd.py
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from appliance.acd.agent import AgentState
from hil.traffic.center import SimCenter
from hil.traffic.simulate import TrafficParams, simulate

AGENTS = 500
WAITING = 2000
STRATEGIES = (
    "linear",
    "rrmemory",
    "leastrecent",
    "fewestcalls",
    "leasttalk",
    "random",
    "ringall",
    "skills",
)


def center_for(strategy: str) -> SimCenter:
    ids = [str(10000 + i) for i in range(AGENTS)]
    agents: list[dict[str, Any]] = [
        {"id": a, "device": f"d{a}", "skills": {"lang": 1 + i % 10, "billing": 1 + (i * 7) % 10}}
        for i, a in enumerate(ids)
    ]
    queue = {"name": "q", "strategy": strategy, "members": ids, "skills": {"lang": 3}}
    center = SimCenter({"queues": [queue], "agents": agents}, db=":memory:", batch=100000)
    for a in ids:
        center.acd.login(a)
        center.acd.pause(a, "break")
    for i in range(WAITING):
        center.queue_call("q", f"0301{i:06d}", priority=i % 3)
    return center


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def decision_times(strategy: str) -> tuple[list[float], list[float]]:
    center = center_for(strategy)
    acd = center.acd
    # pure decision: every agent idle (set directly, so nothing is dispatched), 2000 waiting
    for agent in acd.agents.values():
        agent.state = AgentState.IDLE
    pure = []
    for _ in range(300):
        t0 = time.perf_counter()
        acd.route_decision("q")
        pure.append(time.perf_counter() - t0)
    for agent in acd.agents.values():
        agent.state = AgentState.PAUSED
    # full cycle: one agent comes back, the head call rings them
    cycle = []
    for agent_id in list(acd.agents)[:300]:
        t0 = time.perf_counter()
        acd.unpause(agent_id)
        cycle.append(time.perf_counter() - t0)
    return pure, cycle


def main() -> None:
    print(f"routing decision, {AGENTS} agents, {WAITING} waiting calls (microseconds)")
    print(f"{'strategy':<12} {'decision median':>16} {'p99':>8} {'cycle median':>13} {'p99':>8}")
    for strategy in STRATEGIES:
        pure, cycle = decision_times(strategy)
        us = [statistics.median(pure), percentile(pure, 0.99)]
        us += [statistics.median(cycle), percentile(cycle, 0.99)]
        print(f"{strategy:<12} {us[0] * 1e6:16.0f} {us[1] * 1e6:8.0f}", end="")
        print(f" {us[2] * 1e6:13.0f} {us[3] * 1e6:8.0f}")
    p = TrafficParams(agents=15, calls_per_hour=200, hours=8)
    result = simulate(p)
    print(
        f"hil traffic 8 h, 200 calls/h, 15 agents: {result['callers']} calls in "
        f"{result['cpu_seconds']:.2f} CPU-s = {result['calls_per_cpu_second']:.0f} calls/CPU-s; "
        f"virtual/CPU time ratio {result['virtual_seconds'] / result['cpu_seconds']:.0f}:1"
    )
    big = simulate(TrafficParams(agents=200, calls_per_hour=3000, hours=8, seed=2))
    print(
        f"hil traffic 8 h, 3000 calls/h, 200 agents: {big['callers']} calls in "
        f"{big['cpu_seconds']:.2f} CPU-s = {big['calls_per_cpu_second']:.0f} calls per CPU-second"
    )


if __name__ == "__main__":
    main()
