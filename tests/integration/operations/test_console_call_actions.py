"""Issue 12 item 10 on the field engineer's console (ACD-4, ACD-5): on the Calls screen
of ``appliance-console`` (tmux), with a customer on the E1 span talking to agent 1001,
``k`` holds the caller, ``r`` takes them back, ``v`` supervises the call from phone2 in
whisper mode (the agent hears the supervisor, the caller does not) and ``t`` transfers
the caller back into the IVR's main menu. Every action is audited as the console's."""

from __future__ import annotations

import time

import pytest
from acd_traffic import ada_with_a_customer, agent, rings, rung
from console_terminal import Terminal
from operations_rig import Appliance, until

pytestmark = pytest.mark.integration

CALLER = "13800138000"
SUPERVISOR_HZ = 1500


def replace_default(console: Terminal, text: str, default_length: int) -> None:
    console.keys(*["BSpace"] * default_length)
    console.keys(text, literal=True)
    console.keys("Enter")


def test_hold_retrieve_supervise_and_transfer_from_the_calls_screen(
        appliance: Appliance, console: Terminal) -> None:
    box = appliance
    call, call_id = ada_with_a_customer(box, CALLER)
    console.wait_for("SPANS", timeout=15)
    console.keys("c")
    console.wait_for("talking", timeout=10)

    console.keys("k")
    console.wait_for("agent 1001: caller on hold")
    until(lambda: box.live_call(CALLER)["state"] == "held", what="the caller held")
    console.keys("r")
    console.wait_for("agent 1001: caller back from hold")
    until(lambda: box.live_call(CALLER)["state"] == "talking", what="the caller back")

    before = rings(box, "phone2")
    console.keys("v")
    console.wait_for("Supervise from phone")
    replace_default(console, "fxs2 whisper", len("fxs2 listen"))
    console.wait_for(f"{call_id}: ringing fxs2; answer to whisper")
    rung(box, "phone2", before, "the supervisor's phone ringing")
    box.sim("phone2", "lift")
    until(lambda: [s["mode"] for s in box.live_call(CALLER)["supervisors"]] == ["whisper"],
          what="the supervisor whispering")
    heard = float(box.sim("phone1", "status")["voice_s"])
    box.sim("phone2", "talk", hz=SUPERVISOR_HZ)
    until(lambda: float(box.sim("phone1", "status")["voice_s"]) > heard + 1.0,
          what="the agent hearing the supervisor")
    time.sleep(1.5)  # more than the second of the caller's ear measured
    share = box.sim("e1a", "heard", call=call, seconds=1.0, hz=SUPERVISOR_HZ)["share"]
    assert share < 0.05, "whisper: the caller must not hear the supervisor"
    box.sim("phone2", "hangup")
    until(lambda: not box.live_call(CALLER)["supervisors"], what="the supervisor gone")

    console.keys("t")
    console.wait_for("Transfer caller to")
    replace_default(console, "flow:main", len("queue:"))
    console.wait_for("agent 1001: caller sent to flow:main")
    until(lambda: box.live_call(CALLER)["state"] == "ivr", what="the caller back in the menu")
    until(lambda: agent(box, "1001")["state"] in ("wrapup", "idle"), what="the agent freed")
    assert "Traceback" not in console.errors()

    box.sim("e1a", "hangup", call=call)
    until(lambda: not box.ctl_json("calls", "list")["calls"], what="the call ended")
    audit = box.rows("SELECT action, outcome FROM audit_log WHERE origin = 'console' "
                     "ORDER BY id")
    assert [a["action"] for a in audit if a["outcome"] == "ok"] == [
        "call.hold", "call.unhold", "call.monitor", "call.transfer"], audit
