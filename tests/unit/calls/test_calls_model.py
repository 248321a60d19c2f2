"""Calls: bridges, hold, blind and attended transfer, three-way, CDRs and bus events."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "acd"))
from acdrig import answer, make_center

from appliance.acd.engine import AcdError
from appliance.calls.model import CallError


def _connected(center):
    call, caller = center.queue_call("sales", "0301234")
    center.clock.advance(5)
    agent_leg = answer(center, "1001")
    return call, caller, agent_leg


def test_answered_call_is_bridged_and_ends_with_a_cdr() -> None:
    center = make_center("linear", agents=1)
    topics: list[str] = []
    center.bus.listen("call.*", lambda e: topics.append(e.topic))
    call, caller, agent_leg = _connected(center)
    assert center.switch.bridges[-1].channels == [caller, agent_leg]
    center.clock.advance(100)
    caller.far_hangup()
    assert agent_leg.hung_up
    (cdr,) = list(center.db.query("SELECT * FROM cdr"))
    assert cdr["call_id"] == call.call_id and cdr["disposition"] == "ANSWERED"
    assert cdr["agent"] == "1001" and cdr["queue"] == "sales" and cdr["caller"] == "0301234"
    assert cdr["duration"] == 105 and cdr["billsec"] == 105
    complete = center.queue_log("COMPLETECALLER")[0]
    assert (complete["data1"], complete["data2"], complete["data3"]) == ("5", "100", "1")
    assert topics[0] == "call.new" and topics[-1] == "call.end" and "call.bridge" in topics


def test_hold_plays_music_and_unhold_logs_the_hold_time() -> None:
    center = make_center("linear", agents=1)
    call, caller, agent_leg = _connected(center)
    center.acd.hold("1001")
    assert caller.playing == "moh" and caller.loop
    assert caller not in center.switch.bridges[-1].channels
    with pytest.raises(CallError, match="already on hold"):
        center.calls.hold(call)
    center.clock.advance(42)
    center.acd.unhold("1001")
    assert caller.playing == ""
    assert center.switch.bridges[-1].channels == [caller, agent_leg]
    assert [r["event"] for r in center.queue_log() if r["event"].endswith("HOLD")] == [
        "HOLD",
        "UNHOLD",
    ]
    assert center.queue_log("UNHOLD")[0]["data1"] == "42"


def test_blind_transfer_hands_the_caller_on_and_frees_the_agent() -> None:
    center = make_center("linear", agents=1)
    call, _caller, agent_leg = _connected(center)
    center.clock.advance(30)
    center.acd.blind_transfer("1001", "queue:sales")
    row = center.queue_log("BLINDTRANSFER")[0]
    assert (row["data1"], row["data2"], row["data3"], row["data4"]) == (
        "queue:sales",
        "5",
        "30",
        "1",
    )
    assert agent_leg.hung_up
    assert center.exits[call.call_id][-1].kind == "transfer"
    assert center.acd.agent_status()[0]["state"] == "idle"


def test_attended_transfer_consults_then_joins_caller_and_target() -> None:
    center = make_center("linear", agents=2)
    _call, caller, agent_leg = _connected(center)
    center.clock.advance(20)
    center.acd.consult("1001", "dev1002")
    assert caller.playing == "moh"
    consult = center.switch.ringing("dev1002")[0]
    with pytest.raises(AcdError, match="no answered consultation"):
        center.acd.complete_transfer("1001")
    consult.far_answer()
    assert center.switch.bridges[-1].channels == [agent_leg, consult]
    center.clock.advance(10)
    center.acd.complete_transfer("1001")
    assert agent_leg.hung_up and not caller.hung_up
    assert center.switch.bridges[-1].channels == [caller, consult]
    row = center.queue_log("ATTENDEDTRANSFER")[0]
    assert (row["data1"], row["data2"], row["data3"]) == ("dev1002", "5", "30")
    center.clock.advance(50)
    consult.far_hangup()
    assert caller.hung_up
    (cdr,) = list(center.db.query("SELECT * FROM cdr"))
    assert cdr["disposition"] == "ANSWERED" and cdr["billsec"] == 85


def test_cancelled_consultation_returns_the_caller() -> None:
    center = make_center("linear", agents=2)
    _call, caller, agent_leg = _connected(center)
    center.acd.consult("1001", "external:01701234")
    consult = center.switch.legs[-1]
    center.clock.advance(8)
    center.acd.cancel_consult("1001")
    assert consult.hung_up and not caller.hung_up
    assert center.switch.bridges[-1].channels == [caller, agent_leg]
    assert center.queue_log("UNHOLD")[0]["data1"] == "8"


def test_three_way_call_bridges_all_three() -> None:
    center = make_center("linear", agents=2)
    _call, caller, agent_leg = _connected(center)
    center.acd.consult("1001", "dev1002")
    consult = center.switch.ringing("dev1002")[0]
    consult.far_answer()
    center.acd.three_way("1001")
    assert sorted(c.name for c in center.switch.bridges[-1].channels) == sorted(
        [caller.name, agent_leg.name, consult.name]
    )
    consult.far_hangup()  # the third party leaves; caller and agent go on
    assert not caller.hung_up and not agent_leg.hung_up
    assert center.switch.bridges[-1].channels == [caller, agent_leg]
    agent_leg.far_hangup()
    assert center.queue_log("COMPLETEAGENT")


def test_a_refusing_database_does_not_stop_calls_and_loses_no_event() -> None:
    center = make_center("linear", agents=1)
    center.db.conn.execute("PRAGMA query_only = ON")  # as if the disk were full
    _call, caller, _agent = _connected(center)
    caller.far_hangup()
    assert center.events.failures > 0
    assert center.acd.agent_status()[0]["state"] == "idle"
    center.db.conn.execute("PRAGMA query_only = OFF")
    center.events.flush()
    events = [r["event"] for r in center.queue_log()]
    assert events[:2] == ["AGENTLOGIN", "ENTERQUEUE"] and "COMPLETECALLER" in events
    assert len(list(center.db.query("SELECT * FROM cdr"))) == 1


def test_queue_events_are_published_on_the_bus() -> None:
    center = make_center("linear", agents=1)
    seen: list[tuple[str, str]] = []
    center.bus.listen("queue.*", lambda e: seen.append((e.topic, e.data["queue"])))
    center.queue_call("sales")
    answer(center, "1001")
    assert seen == [
        ("queue.enterqueue", "sales"),
        ("queue.ringing", "sales"),
        ("queue.connect", "sales"),
    ]


def test_a_consultation_to_nowhere_is_refused_and_holds_nobody() -> None:
    center = make_center("linear", agents=2)
    _call, caller, _agent_leg = _connected(center)

    def no_such_device(destination: str, caller_id: str, listener: object) -> None:
        raise ValueError(f"originate: no device {destination!r} on any technology")

    center.switch.originate = no_such_device  # type: ignore[assignment,method-assign]
    with pytest.raises(AcdError, match="cannot consult '299'"):
        center.acd.consult("1001", "299")
    assert caller.playing != "moh" and not center.queue_log("HOLD")
    assert center.acd.sessions["1001"].consult is None


def test_the_agents_keypad_runs_in_call_feature_codes_and_the_callers_does_not() -> None:
    center = make_center("linear", agents=1)
    call, caller, agent_leg = _connected(center)
    done: list[str] = []
    center.acd.call_features["*1"] = lambda c: done.append(f"*1 {c.call_id}") or "started"
    center.acd.call_features["*2"] = lambda c: 1 / 0  # a failing feature: logged, call goes on
    agent_leg.press("12*")
    caller.press("1")  # the caller's keys are not the agent's features
    assert done == []
    agent_leg.press("1")
    assert done == [f"*1 {call.call_id}"]
    agent_leg.press("*2")
    agent_leg.press("*1")
    assert done == [f"*1 {call.call_id}"] * 2
    assert not caller.hung_up and not agent_leg.hung_up
