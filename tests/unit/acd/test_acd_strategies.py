"""Each strategy rings agents in its documented order (ACD-2)."""

from __future__ import annotations

from acdrig import answer, make_center, ringing_agents, serve


def test_linear_always_starts_with_the_first_member() -> None:
    center = make_center("linear")
    assert [serve(center) for _ in range(4)] == ["1001", "1001", "1001", "1001"]


def test_linear_takes_the_next_member_when_the_first_is_busy() -> None:
    center = make_center("linear")
    center.queue_call("sales")
    answer(center, "1001")
    center.queue_call("sales")
    assert ringing_agents(center) == ["1002"]


def test_round_robin_with_memory_continues_after_the_last_agent_rung() -> None:
    center = make_center("rrmemory")
    assert [serve(center) for _ in range(5)] == ["1001", "1002", "1003", "1001", "1002"]


def test_round_robin_skips_a_paused_agent_and_remembers_where_it_was() -> None:
    center = make_center("rrmemory")
    assert serve(center) == "1001"
    center.acd.pause("1002", "break")
    assert serve(center) == "1003"
    center.acd.unpause("1002")
    assert serve(center) == "1001"
    assert serve(center) == "1002"


def test_longest_idle_agent_is_rung_first() -> None:
    center = make_center("leastrecent", login=False)
    for agent in ("1003", "1001", "1002"):
        center.acd.login(agent)
        center.clock.advance(10)
    assert [serve(center) for _ in range(4)] == ["1003", "1001", "1002", "1003"]


def test_fewest_calls_evens_the_load() -> None:
    center = make_center("fewestcalls")
    center.acd.pause("1002", "break")
    center.acd.pause("1003", "break")
    assert [serve(center), serve(center)] == ["1001", "1001"]
    center.acd.unpause("1002")
    center.acd.unpause("1003")
    # 1002 and 1003 have answered none from this queue: they catch up with 1001 first
    assert [serve(center) for _ in range(5)] == ["1002", "1003", "1002", "1003", "1001"]


def test_least_talk_time_prefers_the_agent_who_talked_least() -> None:
    center = make_center("leasttalk")
    assert serve(center, talk=300) == "1001"
    assert serve(center, talk=100) == "1002"
    assert serve(center, talk=200) == "1003"
    # 1002: 100, 150, 200 (a tie with 1003 goes by member order), 250: then 1003
    assert [serve(center, talk=50) for _ in range(4)] == ["1002", "1002", "1002", "1003"]


def test_random_is_reproducible_with_a_seed_and_uses_everyone() -> None:
    runs = []
    for _ in range(2):
        center = make_center("random", seed=7)
        runs.append([serve(center) for _ in range(30)])
    assert runs[0] == runs[1]
    assert set(runs[0]) == {"1001", "1002", "1003"}
    other = make_center("random", seed=8)
    assert [serve(other) for _ in range(30)] != runs[0]


def test_ring_all_rings_everyone_and_the_first_to_answer_wins() -> None:
    center = make_center("ringall")
    call, _ = center.queue_call("sales")
    assert sorted(ringing_agents(center)) == ["1001", "1002", "1003"]
    center.clock.advance(3)
    answer(center, "1002")
    assert ringing_agents(center) == []
    connect = center.queue_log("CONNECT")
    assert [(r["agent"], r["call_id"]) for r in connect] == [("1002", call.call_id)]
    assert center.queue_log("RINGNOANSWER") == []
    states = {a["agent"]: a["state"] for a in center.acd.agent_status()}
    assert states == {"1001": "idle", "1002": "talking", "1003": "idle"}


SKILLS = {
    "1001": {"french": 3},
    "1002": {"french": 7, "english": 9, "billing": 5},
    "1003": {"french": 7},
}


def test_skills_best_fit_first() -> None:
    center = make_center("skills", agent_skills=SKILLS)
    center.queue_call("sales", skills={"french": 5})
    # 1001 lacks the level; 1002 and 1003 fit equally, 1003 keeps the generalist 1002 free
    assert ringing_agents(center) == ["1003"]


def test_skills_widen_after_a_wait() -> None:
    center = make_center("skills", agent_skills=SKILLS, widen_after=30, widen_step=1)
    center.acd.pause("1002", "break")
    center.acd.pause("1003", "break")
    center.queue_call("sales", skills={"french": 5})
    center.clock.advance(59)
    assert ringing_agents(center) == []  # after 30 s the need is french 4: 1001 has 3
    center.clock.advance(1)
    assert ringing_agents(center) == ["1001"]  # after 60 s: french 3
    ringing = center.queue_log("RINGING")
    enter = center.queue_log("ENTERQUEUE")
    assert ringing[0]["at"] - enter[0]["at"] == 60
