"""A supervisor's hang-up (``calls.hangup``) ends a call as the caller's hang-up does.

Regression (issue 12 item 1): the control method released every leg itself
and wrote an ``ADMIN`` CDR, so the ACD never heard the call end: the agent
stayed ``talking`` forever, queue_log had CONNECT without COMPLETE*, no
wrap-up followed and the queue never drained.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "acd"))
from acdrig import answer, make_center


def test_supervisor_hangup_of_an_answered_queue_call_completes_it_and_wraps_the_agent_up() -> None:
    center = make_center("linear", agents=1, wrapup=10)
    bus_ends: list[str] = []
    center.bus.listen("call.end", lambda e: bus_ends.append(str(e.data["call_id"])))
    call, caller = center.queue_call("sales", "0301234")
    center.clock.advance(4)
    agent_leg = answer(center, "1001")
    center.clock.advance(30)

    center.calls.hangup(call, 16)

    assert caller.hung_up and caller.hangup_cause == 16
    assert agent_leg.hung_up  # the agent's phone is told the call is over
    (complete,) = center.queue_log("COMPLETECALLER")
    assert (complete["call_id"], complete["agent"]) == (call.call_id, "1001")
    assert (complete["data1"], complete["data2"]) == ("4", "30")  # wait, talk
    (cdr,) = list(center.db.query("SELECT * FROM cdr"))
    assert (cdr["call_id"], cdr["disposition"], cdr["agent"]) == (call.call_id, "ANSWERED", "1001")
    assert bus_ends == [call.call_id]  # the recorder listens to call.end
    status = {a["agent"]: a["state"] for a in center.acd.agent_status()}
    assert status["1001"] == "wrapup"
    center.clock.advance(10)
    status = {a["agent"]: a["state"] for a in center.acd.agent_status()}
    assert status["1001"] == "idle"
    assert call.call_id not in center.calls.calls


def test_supervisor_hangup_of_a_waiting_call_logs_it_abandoned() -> None:
    center = make_center("linear", agents=1)
    center.acd.pause("1001", "break")
    call, _caller = center.queue_call("sales", "0301234")
    center.clock.advance(7)
    center.calls.hangup(call, 16)
    (abandon,) = center.queue_log("ABANDON")
    assert abandon["call_id"] == call.call_id
    (cdr,) = list(center.db.query("SELECT * FROM cdr"))
    assert cdr["disposition"] == "ABANDONED"
    assert center.acd.queue_status()[0]["waiting"] == 0


def test_supervisor_hangup_of_a_call_nobody_holds_still_writes_its_cdr() -> None:
    center = make_center("linear", agents=1)
    call, caller = center.inbound_call("0301234")
    caller.set_listener(None)
    center.calls.hangup(call, 31)
    (cdr,) = list(center.db.query("SELECT * FROM cdr"))
    assert (cdr["call_id"], cdr["cause"]) == (call.call_id, 31)
    assert caller.hung_up
