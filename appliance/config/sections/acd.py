"""``[acd]``: queues, agents, skills, strategies, pause reasons, feature codes (ACD-1..4).

Cross-references (queue members, overflow targets) are checked by
:func:`check_acd`, which the ACD runs before it accepts a configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from appliance.config.validate import KeyPath, Problem, setting

NAME = r"[A-Za-z0-9_.-]{1,32}"

Strategy = Literal[
    "linear", "rrmemory", "leastrecent", "fewestcalls", "leasttalk", "random", "ringall", "skills"
]
STRATEGIES: tuple[str, ...] = (
    "linear",
    "rrmemory",
    "leastrecent",
    "fewestcalls",
    "leasttalk",
    "random",
    "ringall",
    "skills",
)


def destination_problem(value: str) -> str | None:
    """Why ``value`` is not a destination, or None."""
    kinds = ("hangup", "queue:", "external:", "flow:", "voicemail:", "ext:")
    if value == "hangup" or any(value.startswith(k) and len(value) > len(k) for k in kinds[1:]):
        return None
    return (
        f"{value!r} is not a destination; "
        "use hangup, queue:NAME, external:NUMBER, ext:EXTENSION, flow:NAME or voicemail:BOX"
    )


def _skills(value: dict[str, int]) -> str | None:
    bad = [k for k, v in value.items() if not 0 <= v <= 10]
    return f"skill levels must be 0..10 ({', '.join(bad)})" if bad else None


@dataclass(frozen=True)
class QueueEntry:
    name: str = setting(doc="Queue name used in events, statistics and the CLI", pattern=NAME)
    strategy: Strategy = setting("rrmemory", doc="How the next agent is chosen (docs/acd.md)")
    members: list[str] = setting(
        doc="Agent ids serving this queue, in order (the order matters for 'linear')",
        default_factory=list,
    )
    weight: int = setting(
        0, doc="An agent in several queues takes calls from the highest weight first", ge=0, le=100
    )
    ring_timeout: float = setting(15.0, doc="Seconds an agent rings before RONA", gt=0, le=300)
    rona_pause: bool = setting(True, doc="Pause an agent who let a call ring out (reason 'rona')")
    wrapup: float = setting(
        0.0, doc="After-call work seconds (an agent's own value wins)", ge=0, le=3600
    )
    max_wait: float = setting(0.0, doc="Seconds before a waiting call leaves; 0 = no limit", ge=0)
    timeout_destination: str = setting(
        "hangup", doc="Where a call goes at max_wait", check=destination_problem
    )
    overflow_queue: str = setting("", doc="Queue taking calls that overflow; '' = none")
    overflow_after: float = setting(0.0, doc="Overflow after this wait; 0 = never by time", ge=0)
    overflow_when_unavailable: bool = setting(
        False, doc="Overflow at once when no member is available on entry"
    )
    join_empty: Literal["always", "if_logged_in", "if_unpaused"] = setting(
        "if_logged_in",
        doc="When a call may join: always, if a member is logged in, or logged in and not paused",
    )
    leave_empty: Literal["never", "no_logged_in", "no_unpaused"] = setting(
        "no_logged_in",
        doc="Waiting calls leave (EXITEMPTY) when no member is logged in / logged in and unpaused",
    )
    announce_every: float = setting(
        0.0, doc="Seconds between position announcements; 0 = none", ge=0
    )
    announce_expected_wait: bool = setting(False, doc="Add the expected wait to announcements")
    exit_key: str = setting(
        "", doc="A DTMF key that leaves the queue (EXITWITHKEY)", pattern=r"[0-9*#]?"
    )
    vip_priority: int = setting(10, doc="Priority added for VIP callers", ge=0, le=100)
    long_distance_priority: int = setting(
        0, doc="Priority added for long-distance callers (0 = off)", ge=0, le=100
    )
    local_prefixes: list[str] = setting(
        doc="Caller-number prefixes that are local (not long distance)", default_factory=list
    )
    skills: dict[str, int] = setting(
        doc="Skills a call needs, with minimum level 1..10 (strategy 'skills')",
        default_factory=dict,
        check=_skills,
    )
    widen_after: float = setting(
        30.0, doc="Every this many seconds of wait, skill minimums drop by widen_step", gt=0
    )
    widen_step: int = setting(
        1, doc="Levels dropped at each widening (0 = never widen)", ge=0, le=10
    )
    sl_seconds: float = setting(20.0, doc="Service-level threshold X (STAT-Q11)", ge=0)


@dataclass(frozen=True)
class AgentEntry:
    id: str = setting(doc="Agent id (digits, so it can be keyed on a phone)", pattern=r"[0-9]{1,8}")
    name: str = setting("", doc="Display name", max_length=64)
    device: str = setting(
        "", doc="Default device rung for this agent, e.g. 'fxs1' or 'sip/alice'", max_length=64
    )
    skills: dict[str, int] = setting(
        doc="Skills with level 1..10", default_factory=dict, check=_skills
    )
    wrapup: float | None = setting(None, doc="After-call work seconds; overrides the queue's", ge=0)


@dataclass(frozen=True)
class FeatureCodes:
    login: str = setting(
        "*51", doc="Dial CODE + agent id to log in at this phone", pattern=r"\*[0-9]{1,3}"
    )
    logout: str = setting("*52", doc="Log out the agent at this phone", pattern=r"\*[0-9]{1,3}")
    pause: str = setting(
        "*53", doc="Pause; CODE + n picks the n-th pause reason", pattern=r"\*[0-9]{1,3}"
    )
    unpause: str = setting("*54", doc="Resume taking calls", pattern=r"\*[0-9]{1,3}")


@dataclass(frozen=True)
class AcdSection:
    queues: list[QueueEntry] = setting(doc="Call queues", default_factory=list)
    agents: list[AgentEntry] = setting(doc="Agents", default_factory=list)
    pause_reasons: list[str] = setting(
        doc="Allowed pause reasons; 'rona' is added automatically",
        default_factory=lambda: ["break", "lunch", "meeting", "training"],
    )
    feature_codes: FeatureCodes = setting(doc="FXS feature codes", default_factory=FeatureCodes)


def _overflow_cycle(start: str, overflow: dict[str, str]) -> list[str]:
    """The overflow chain from ``start`` back to ``start``, or [] if it ends."""
    chain = [start]
    current = overflow.get(start, "")
    while current and current not in chain:
        chain.append(current)
        current = overflow.get(current, "")
    return [*chain, start] if current == start else []


def check_acd(section: AcdSection, path: KeyPath = ("acd",)) -> list[Problem]:
    """Cross-checks that field validation cannot do: unique names, known references."""
    problems: list[Problem] = []
    agents = {a.id for a in section.agents}
    seen: set[str] = set()
    for i, agent in enumerate(section.agents):
        if agent.id in seen:
            problems.append(Problem((*path, "agents", i, "id"), f"agent {agent.id} defined twice"))
        seen.add(agent.id)
    names = [q.name for q in section.queues]
    for i, queue in enumerate(section.queues):
        where = (*path, "queues", i)
        if names.count(queue.name) > 1:
            problems.append(Problem((*where, "name"), f"queue {queue.name!r} defined twice"))
        for member in queue.members:
            if member not in agents:
                problems.append(Problem((*where, "members"), f"agent {member} is not defined"))
        if queue.overflow_queue and queue.overflow_queue not in names:
            problems.append(
                Problem(
                    (*where, "overflow_queue"), f"queue {queue.overflow_queue!r} is not defined"
                )
            )
        if queue.overflow_queue == queue.name:
            problems.append(
                Problem((*where, "overflow_queue"), "a queue cannot overflow to itself")
            )
        cycle = _overflow_cycle(queue.name, {q.name: q.overflow_queue for q in section.queues})
        if cycle and queue.overflow_queue != queue.name:
            problems.append(
                Problem((*where, "overflow_queue"), f"overflow loop {' -> '.join(cycle)}")
            )
        target = queue.timeout_destination
        if target.startswith("queue:") and target[6:] not in names:
            problems.append(
                Problem((*where, "timeout_destination"), f"queue {target[6:]!r} is not defined")
            )
    return problems
