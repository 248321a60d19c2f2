"""Attended transfer from the field engineer's console (issue 12 item 10, ACD-4): on the
Calls screen of ``appliance-console`` (tmux), with a customer on the E1 span talking to
agent 1001, ``a`` consults extension 202 (the caller is held and does not hear it),
``b`` takes the caller back, ``a`` again, ``j`` makes it a three-way call (the caller
hears 202) and ``e`` hands the caller over: the agent leaves, caller and 202 talk on."""

from __future__ import annotations

import time

import pytest
from acd_traffic import ada_with_a_customer, agent, caller_hears, port_state, rings, rung
from console_terminal import Terminal
from operations_rig import Appliance, until

pytestmark = pytest.mark.integration

CALLER = "13800138000"
AGENT_HZ = 700
COLLEAGUE_HZ = 1500




def consult_202(box: Appliance, console: Terminal) -> None:
    before = rings(box, "phone2")
    console.keys("a")
    console.wait_for("Consult (phone, extension")
    console.keys("202", literal=True)
    console.keys("Enter")
    console.wait_for("agent 1001: caller on hold, ringing 202")
    until(lambda: box.live_call(CALLER)["state"] == "held", what="the caller held")
    rung(box, "phone2", before, "202 ringing")
    box.sim("phone2", "lift")
    until(lambda: port_state(box, "fxs2") == "connected", what="202 answered")


def test_consult_back_three_way_and_hand_over_from_the_calls_screen(
        appliance: Appliance, console: Terminal) -> None:
    box = appliance
    call, call_id = ada_with_a_customer(box, CALLER)
    box.sim("phone1", "talk", hz=AGENT_HZ)
    console.wait_for("SPANS", timeout=15)
    console.keys("c")
    console.wait_for("talking", timeout=10)
    console.wait_for("a consult")  # the screen says which keys it takes

    consult_202(box, console)
    console.keys("b")
    console.wait_for("agent 1001: consultation ended, caller back")
    until(lambda: box.live_call(CALLER)["state"] == "talking", what="the caller back")
    box.sim("phone2", "hangup")  # 202 puts the receiver down
    until(lambda: port_state(box, "fxs2") == "idle", what="202's port idle")

    consult_202(box, console)
    box.sim("phone2", "talk", hz=COLLEAGUE_HZ)
    time.sleep(1.5)  # more than the second of the caller's ear measured
    assert caller_hears(box, call, COLLEAGUE_HZ) < 0.05, "the consultation is not for the caller"

    console.keys("j")
    console.wait_for("agent 1001: three-way call")
    until(lambda: caller_hears(box, call, COLLEAGUE_HZ) > 0.2, what="the caller hearing 202")

    console.keys("e")
    console.wait_for("agent 1001: caller handed to the consulted party")
    until(lambda: agent(box, "1001")["state"] in ("wrapup", "idle"), what="the agent freed")
    until(lambda: caller_hears(box, call, COLLEAGUE_HZ) > 0.8, what="caller and 202 talking on")
    assert "Traceback" not in console.errors()

    box.sim("e1a", "hangup", call=call)
    until(lambda: not box.ctl_json("calls", "list")["calls"], what="the call ended")
    audit = box.rows("SELECT action, outcome FROM audit_log WHERE origin = 'console' "
                     "ORDER BY id")
    assert [a["action"] for a in audit if a["outcome"] == "ok"] == [
        "call.consult", "call.consult_cancel", "call.consult", "call.three_way",
        "call.transfer_complete"], audit
    events = [r["event"] for r in box.rows(
        "SELECT event FROM queue_log WHERE call_id = ? ORDER BY id", call_id)]
    assert "ATTENDEDTRANSFER" in events, events
