"""Priorities, RONA, wrap-up, queue weights, abandon, timeouts, overflow, join/leave rules."""

from __future__ import annotations

import pytest
from acdrig import answer, make_center, ringing_agents

from appliance.acd.engine import AcdError


def _agent_of_connect(center, call_id: str) -> str:
    rows = [r for r in center.queue_log("CONNECT") if r["call_id"] == call_id]
    return rows[0]["agent"] if rows else ""


def test_vip_caller_is_served_before_callers_who_waited_longer() -> None:
    center = make_center("linear", agents=1)
    center.acd.pause("1001", "break")
    first, _ = center.queue_call("sales", "0301")
    center.clock.advance(5)
    _second, _ = center.queue_call("sales", "0302")
    center.clock.advance(5)
    vip, _ = center.queue_call("sales", "0303", vip=True)
    enter = {r["call_id"]: r for r in center.queue_log("ENTERQUEUE")}
    assert enter[vip.call_id]["data3"] == "10"  # priority: vip_priority
    assert enter[first.call_id]["data3"] == "0"
    center.acd.unpause("1001")
    ring = center.queue_log("RINGING")
    assert [r["call_id"] for r in ring] == [vip.call_id]


def test_long_distance_callers_first_when_configured() -> None:
    center = make_center("linear", agents=1, long_distance_priority=5, local_prefixes=["030"])
    center.acd.pause("1001", "break")
    local, _ = center.queue_call("sales", "0301111")
    far, _ = center.queue_call("sales", "0891111")
    center.acd.unpause("1001")
    assert [r["call_id"] for r in center.queue_log("RINGING")] == [far.call_id]
    assert local.call_id != far.call_id


def test_rona_moves_the_call_on_and_pauses_the_agent() -> None:
    center = make_center("linear", ring_timeout=12)
    call, _ = center.queue_call("sales")
    assert ringing_agents(center) == ["1001"]
    center.clock.advance(11.9)
    assert ringing_agents(center) == ["1001"]
    center.clock.advance(0.1)
    assert ringing_agents(center) == ["1002"]
    rona = center.queue_log("RINGNOANSWER")
    assert [(r["agent"], r["data1"]) for r in rona] == [("1001", "12")]
    pause = center.queue_log("PAUSE")
    assert [(r["agent"], r["data1"]) for r in pause] == [("1001", "rona")]
    status = {a["agent"]: a for a in center.acd.agent_status()}
    assert status["1001"]["state"] == "paused" and status["1001"]["reason"] == "rona"
    answer(center, "1002")
    connect = center.queue_log("CONNECT")[0]
    assert connect["call_id"] == call.call_id
    assert float(connect["data1"]) == 12  # waited 12 s in total
    assert float(connect["data3"]) == 0  # the second agent picked up at once
    assert [r["data1"] for r in center.queue_log("RINGING")] == ["1", "2"]


def test_rona_without_pause_tries_the_others_before_ringing_the_same_agent_again() -> None:
    center = make_center("linear", agents=2, ring_timeout=5, rona_pause=False)
    center.queue_call("sales")
    seen = []
    for _ in range(3):
        seen += ringing_agents(center)
        center.clock.advance(5)
    assert seen == ["1001", "1002", "1001"]
    assert center.queue_log("PAUSE") == []


def test_wrapup_keeps_the_agent_from_the_next_call() -> None:
    center = make_center("linear", agents=1, wrapup=30)
    center.queue_call("sales")
    leg = answer(center, "1001")
    center.clock.advance(60)
    leg.far_hangup()  # the agent hangs up
    center.queue_call("sales")
    center.clock.advance(29.9)
    assert ringing_agents(center) == []
    assert center.acd.agent_status()[0]["state"] == "wrapup"
    center.clock.advance(0.1)
    assert ringing_agents(center) == ["1001"]
    start, end = center.queue_log("WRAPUPSTART")[0], center.queue_log("WRAPUPEND")[0]
    assert start["data1"] == "30" and end["data1"] == "30" and start["agent"] == "1001"
    complete = center.queue_log("COMPLETEAGENT")[0]
    assert complete["data2"] == "60"


def test_agent_wrapup_overrides_the_queue_and_can_end_early() -> None:
    center = make_center("linear", agents=1, wrapup=30, login=False)
    center.acd.agents["1001"].wrapup = 90
    center.acd.login("1001")
    center.queue_call("sales")
    answer(center, "1001").far_hangup()
    center.queue_call("sales")
    center.clock.advance(60)
    assert ringing_agents(center) == []
    center.acd.end_wrapup("1001")
    assert ringing_agents(center) == ["1001"]
    assert center.queue_log("WRAPUPSTART")[0]["data1"] == "90"
    assert center.queue_log("WRAPUPEND")[0]["data1"] == "60"


def test_agent_in_two_queues_takes_from_the_higher_weight_one() -> None:
    queues = [
        {"name": "support", "strategy": "linear", "members": ["1001"], "weight": 0},
        {"name": "vipdesk", "strategy": "linear", "members": ["1001"], "weight": 10},
    ]
    center = make_center(queues=queues, agents=1)
    center.acd.pause("1001", "break")
    older, _ = center.queue_call("support")
    center.clock.advance(120)
    newer, _ = center.queue_call("vipdesk")
    center.acd.unpause("1001")
    assert center.queue_log("RINGING")[0]["call_id"] == newer.call_id
    answer(center, "1001").far_hangup()
    assert center.queue_log("RINGING")[1]["call_id"] == older.call_id


def test_abandon_while_ringing_stops_the_agent_phone() -> None:
    center = make_center("linear", agents=1)
    call, caller = center.queue_call("sales")
    center.clock.advance(4)
    assert ringing_agents(center) == ["1001"]
    caller.far_hangup()
    assert ringing_agents(center) == []
    abandon = center.queue_log("ABANDON")
    assert [(r["call_id"], r["data1"], r["data2"], r["data3"]) for r in abandon] == [
        (call.call_id, "1", "1", "4")
    ]
    assert center.acd.agent_status()[0]["state"] == "idle"
    cdr = list(center.db.query("SELECT disposition, queue FROM cdr"))
    assert cdr == [{"disposition": "ABANDONED", "queue": "sales"}]
    assert center.queue_log("RINGNOANSWER") == []


def test_max_wait_sends_the_call_to_the_timeout_destination() -> None:
    center = make_center("linear", agents=1, max_wait=90, timeout_destination="external:0170111")
    center.acd.pause("1001", "break")
    call, _ = center.queue_call("sales")
    center.clock.advance(90)
    row = center.queue_log("EXITWITHTIMEOUT")[0]
    assert (row["data1"], row["data3"], row["data4"]) == ("1", "90", "external:0170111")
    assert center.exits[call.call_id][0].kind == "timeout"
    assert center.exits[call.call_id][0].detail == "external:0170111"


def test_overflow_after_a_wait_moves_the_call_to_the_other_queue() -> None:
    queues = [
        {
            "name": "first",
            "strategy": "linear",
            "members": ["1001"],
            "overflow_queue": "second",
            "overflow_after": 45,
        },
        {"name": "second", "strategy": "linear", "members": ["1002"]},
    ]
    center = make_center(queues=queues, agents=2)
    center.acd.pause("1001", "break")
    center.acd.pause("1002", "break")
    call, _ = center.queue_call("first")
    center.clock.advance(45)
    overflow = center.queue_log("OVERFLOW")[0]
    assert (overflow["queue"], overflow["data1"], overflow["data3"]) == ("first", "second", "45")
    enters = [r["queue"] for r in center.queue_log("ENTERQUEUE")]
    assert enters == ["first", "second"]
    center.acd.unpause("1002")
    assert ringing_agents(center) == ["1002"]
    assert call.queue == "second"


def test_overflow_at_once_when_no_member_is_available() -> None:
    queues = [
        {
            "name": "first",
            "strategy": "linear",
            "members": ["1001"],
            "overflow_queue": "second",
            "overflow_when_unavailable": True,
        },
        {"name": "second", "strategy": "linear", "members": ["1002"]},
    ]
    center = make_center(queues=queues, agents=2)
    center.acd.pause("1001", "break")
    center.queue_call("first")
    assert ringing_agents(center) == ["1002"]
    assert center.queue_log("OVERFLOW")[0]["data3"] == "0"


def test_join_rule_refuses_a_queue_with_nobody_logged_in() -> None:
    center = make_center("linear", agents=1, login=False)
    call, _ = center.queue_call("sales")
    assert center.exits[call.call_id][0].kind == "empty"
    assert center.queue_log("ENTERQUEUE") == []


def test_leave_rule_empties_the_queue_when_the_last_agent_logs_out() -> None:
    center = make_center("linear", agents=1)
    center.acd.pause("1001", "break")
    call, _ = center.queue_call("sales")
    center.clock.advance(20)
    center.acd.logout("1001")
    row = center.queue_log("EXITEMPTY")[0]
    assert (row["call_id"], row["data1"], row["data3"]) == (call.call_id, "1", "20")
    logoff = center.queue_log("AGENTLOGOFF")[0]
    assert logoff["data1"] == "dev1001" and logoff["data2"] == "20"
    assert center.queue_log("UNPAUSE")[0]["data2"] == "20"


def test_exit_key_leaves_the_queue() -> None:
    center = make_center("linear", agents=1, exit_key="0")
    center.acd.pause("1001", "break")
    call, caller = center.queue_call("sales")
    center.clock.advance(7)
    caller.press("5")
    assert center.queue_log("EXITWITHKEY") == []
    caller.press("0")
    row = center.queue_log("EXITWITHKEY")[0]
    assert (row["data1"], row["data2"], row["data4"]) == ("0", "1", "7")
    assert center.exits[call.call_id][0].kind == "key"


def test_position_and_expected_wait_announcements() -> None:
    center = make_center("linear", agents=1, announce_every=30, announce_expected_wait=True)
    center.acd.pause("1001", "break")
    center.queue_call("sales", "0301")
    _, second = center.queue_call("sales", "0302")
    center.switch.prompt_seconds["queue-position"] = 2
    center.clock.advance(30)
    assert second.played[-1] == "queue-position:2"
    center.clock.advance(2)
    assert second.played[-1].startswith("queue-wait:")
    expected = round(center.acd.expected_wait(center.acd.queues["sales"], 2))
    assert second.played[-1] == f"queue-wait:{expected}"
    center.clock.advance(3)
    assert second.playing == "moh" and second.loop


def test_pause_reasons_are_checked_and_pause_during_a_call_waits_for_its_end() -> None:
    center = make_center("linear", agents=1, wrapup=10)
    with pytest.raises(AcdError, match="pause reason 'nap' unknown"):
        center.acd.pause("1001", "nap")
    with pytest.raises(AcdError, match="unknown agent"):
        center.acd.pause("9999", "break")
    center.queue_call("sales")
    leg = answer(center, "1001")
    center.acd.pause("1001", "lunch")
    assert center.queue_log("PAUSE") == []
    leg.far_hangup()
    center.clock.advance(10)
    assert [r["data1"] for r in center.queue_log("PAUSE")] == ["lunch"]
    with pytest.raises(AcdError, match="already logged in"):
        center.acd.login("1001")


def test_queue_status_for_wallboards() -> None:
    center = make_center("linear", agents=2)
    center.acd.pause("1002", "break")
    center.queue_call("sales")
    answer(center, "1001")
    center.queue_call("sales")
    center.clock.advance(15)
    (status,) = center.acd.queue_status()
    assert status["waiting"] == 1 and status["longest_wait"] == 15
    assert status["completed"] == 0
    center.acd.sessions["1001"].leg.far_hangup()
    assert center.acd.queue_status()[0]["completed"] == 1
    assert status["agents_busy"] == 1 and status["agents_paused"] == 1
