"""[acd] configuration: field checks and cross-references, with the key path in every error."""

from __future__ import annotations

import pytest
from acdrig import answer, make_center, ringing_agents

from appliance.acd.engine import AcdError
from appliance.config.sections.acd import AcdSection, check_acd
from appliance.config.validate import Problem, build


def problems_of(data: dict) -> list[tuple[str, str]]:
    problems: list[Problem] = []
    section = build(AcdSection, data, ("acd",), problems)
    if not problems:
        problems = check_acd(section)
    return [(".".join(map(str, p.path)), p.message) for p in problems]


def test_field_errors() -> None:
    found = problems_of(
        {
            "agents": [{"id": "ab", "skills": {"fr": 11}}],
            "queues": [
                {
                    "name": "q",
                    "strategy": "fastest",
                    "ring_timeout": 0,
                    "timeout_destination": "mars",
                }
            ],
        }
    )
    paths = sorted(p for p, _ in found)
    assert paths == [
        "acd.agents.0.id",
        "acd.agents.0.skills",
        "acd.queues.0.ring_timeout",
        "acd.queues.0.strategy",
        "acd.queues.0.timeout_destination",
    ]
    assert "use hangup, queue:NAME" in dict(found)["acd.queues.0.timeout_destination"]


def test_cross_reference_errors() -> None:
    found = problems_of(
        {
            "agents": [{"id": "1"}, {"id": "1"}],
            "queues": [
                {
                    "name": "q",
                    "members": ["1", "2"],
                    "overflow_queue": "elsewhere",
                    "timeout_destination": "queue:nowhere",
                },
                {"name": "q"},
            ],
        }
    )
    assert sorted(found) == [
        ("acd.agents.1.id", "agent 1 defined twice"),
        ("acd.queues.0.members", "agent 2 is not defined"),
        ("acd.queues.0.name", "queue 'q' defined twice"),
        ("acd.queues.0.overflow_queue", "queue 'elsewhere' is not defined"),
        ("acd.queues.0.timeout_destination", "queue 'nowhere' is not defined"),
        ("acd.queues.1.name", "queue 'q' defined twice"),
    ]


def test_busy_agents_keep_calls_in_the_queue_but_pausing_the_last_one_empties_it() -> None:
    center = make_center("linear", agents=1, leave_empty="no_unpaused")
    center.queue_call("sales")
    answer(center, "1001")
    center.queue_call("sales")
    center.clock.advance(10)
    assert center.queue_log("EXITEMPTY") == []  # the only agent is busy, not gone
    center.acd.pause("1001", "break")  # taken after the call...
    assert center.queue_log("EXITEMPTY") == []
    center.acd.sessions["1001"].leg.far_hangup()  # ...which is now
    assert [r["data3"] for r in center.queue_log("EXITEMPTY")] == ["10"]


def test_blind_transfer_to_an_unknown_queue_is_refused_and_changes_nothing() -> None:
    center = make_center("linear", agents=1)
    center.queue_call("sales")
    answer(center, "1001")
    with pytest.raises(AcdError, match="queue 'billing' is not defined"):
        center.acd.blind_transfer("1001", "queue:billing")
    with pytest.raises(AcdError, match="is not a destination"):
        center.acd.blind_transfer("1001", "somewhere")
    assert center.acd.agent_status()[0]["state"] == "talking"
    assert center.queue_log("BLINDTRANSFER") == []
    assert ringing_agents(center) == []


def test_overflow_loops_are_refused() -> None:
    found = problems_of(
        {
            "queues": [
                {"name": "a", "overflow_queue": "b"},
                {"name": "b", "overflow_queue": "c"},
                {"name": "c", "overflow_queue": "a"},
                {"name": "d", "overflow_queue": "a"},
            ],
        }
    )
    assert found == [
        ("acd.queues.0.overflow_queue", "overflow loop a -> b -> c -> a"),
        ("acd.queues.1.overflow_queue", "overflow loop b -> c -> a -> b"),
        ("acd.queues.2.overflow_queue", "overflow loop c -> a -> b -> c"),
    ]
