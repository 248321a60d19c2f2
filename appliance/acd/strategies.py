"""Agent selection strategies (ACD-2), each a pure function of the queue's state.

Every strategy gets the available candidate agents in the queue's member
order and returns the agents to ring, best first (one agent, or all of them
for ``ringall``). Ties are always broken by member order, so results are
reproducible.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from appliance.acd.agent import Agent


@dataclass
class QueueMemory:
    """What strategies remember per queue."""

    order: dict[str, int] = field(default_factory=dict)  # agent id -> member index
    last_index: int = -1  # rrmemory: member index of the agent rung last
    calls: dict[str, int] = field(default_factory=dict)  # answered calls per agent (fewestcalls)
    talk: dict[str, float] = field(default_factory=dict)  # talk seconds per agent (leasttalk)


Requirement = Mapping[str, int]
Strategy = Callable[[Sequence[Agent], QueueMemory, Requirement, random.Random], list[Agent]]


def linear(
    cands: Sequence[Agent], mem: QueueMemory, req: Requirement, rng: random.Random
) -> list[Agent]:
    """Fixed order: the first available member in the configured list."""
    return [min(cands, key=lambda a: mem.order[a.id])]


def rrmemory(
    cands: Sequence[Agent], mem: QueueMemory, req: Requirement, rng: random.Random
) -> list[Agent]:
    """Round robin with memory: the next member after the one rung last, wrapping."""
    n = max(len(mem.order), 1)
    return [min(cands, key=lambda a: (mem.order[a.id] - mem.last_index - 1) % n)]


def leastrecent(
    cands: Sequence[Agent], mem: QueueMemory, req: Requirement, rng: random.Random
) -> list[Agent]:
    """Longest idle: the agent whose last call (or login) ended longest ago."""
    return [min(cands, key=lambda a: (a.idle_since, mem.order[a.id]))]


def fewestcalls(
    cands: Sequence[Agent], mem: QueueMemory, req: Requirement, rng: random.Random
) -> list[Agent]:
    """Even load: the agent who answered fewest calls from this queue."""
    return [min(cands, key=lambda a: (mem.calls.get(a.id, 0), mem.order[a.id]))]


def leasttalk(
    cands: Sequence[Agent], mem: QueueMemory, req: Requirement, rng: random.Random
) -> list[Agent]:
    """The agent with the least talk time on this queue's calls."""
    return [min(cands, key=lambda a: (mem.talk.get(a.id, 0.0), mem.order[a.id]))]


def random_agent(
    cands: Sequence[Agent], mem: QueueMemory, req: Requirement, rng: random.Random
) -> list[Agent]:
    """Any available agent, uniformly (seeded generator: reproducible)."""
    ordered = sorted(cands, key=lambda a: mem.order[a.id])
    return [ordered[rng.randrange(len(ordered))]]


def ringall(
    cands: Sequence[Agent], mem: QueueMemory, req: Requirement, rng: random.Random
) -> list[Agent]:
    """Every available member at once; the first to answer takes the call."""
    return sorted(cands, key=lambda a: mem.order[a.id])


def qualifies(agent: Agent, req: Requirement) -> bool:
    """The agent holds every required skill at least at the required level (0 = not required)."""
    return all(level <= 0 or agent.skills.get(skill, 0) >= level for skill, level in req.items())


def skills(
    cands: Sequence[Agent], mem: QueueMemory, req: Requirement, rng: random.Random
) -> list[Agent]:
    """Skills-based, best fit first.

    ``req`` is the (possibly widened) requirement; only qualifying agents are
    considered. Best fit: highest total level on the required skills; then
    the agent with fewest other skills (keeps generalists free for calls
    that need them); then longest idle.
    """
    fit = [a for a in cands if qualifies(a, req)]
    if not fit:
        return []

    def rank(a: Agent) -> tuple[int, int, float, int]:
        score = sum(a.skills.get(s, 0) for s in req)
        others = sum(1 for s in a.skills if s not in req)
        return (-score, others, a.idle_since, mem.order[a.id])

    return [min(fit, key=rank)]


STRATEGIES: dict[str, Strategy] = {
    "linear": linear,
    "rrmemory": rrmemory,
    "leastrecent": leastrecent,
    "fewestcalls": fewestcalls,
    "leasttalk": leasttalk,
    "random": random_agent,
    "ringall": ringall,
    "skills": skills,
}
