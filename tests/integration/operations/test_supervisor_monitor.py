"""Issue 12 item 10, supervisor listen/barge on the running appliance (ACD-5): a customer
talks to agent 1001 on phone1; the supervisor runs ``appliancectl calls monitor`` for phone2,
answers it and hears the agent without being heard by the customer (listen); hangs up,
barges in and is heard; when the customer hangs up the supervisor's phone is cleared.
The audio is checked at the far ends: the simulated phone's ear and the E1 caller's."""

from __future__ import annotations

import time

import pytest
from acd_traffic import ada_with_a_customer, rings, rung
from operations_rig import Appliance, until

pytestmark = pytest.mark.integration

CALLER = "13800138000"
SUPERVISOR_HZ = 1500  # the supervisor's voice, a steady tone told apart by frequency


def supervisors(box: Appliance) -> list[dict[str, object]]:
    call = box.live_call(CALLER)
    return list(call["supervisors"])


def caller_hears_supervisor(box: Appliance, call: int) -> float:
    return float(box.sim("e1a", "heard", call=call, seconds=1.0, hz=SUPERVISOR_HZ)["share"])


def join(box: Appliance, call_id: str, mode: str) -> None:
    before = rings(box, "phone2")
    said = box.ctl("calls", "monitor", call_id, "fxs2", "--mode", mode)
    assert f"{call_id}: ringing fxs2; answer to {mode}" in said.stdout
    rung(box, "phone2", before, "the supervisor's phone ringing")
    box.sim("phone2", "lift")
    until(lambda: supervisors(box) == [{"call_id": call_id, "device": "fxs2", "mode": mode,
                                        "state": "joined"}], what=f"the supervisor joined ({mode})")


def test_a_supervisor_listens_unheard_then_barges_in_and_is_cleared_with_the_call(
        appliance: Appliance) -> None:
    box = appliance
    call, call_id = ada_with_a_customer(box, CALLER)

    own = box.ctl("calls", "monitor", call_id, "fxs1", check=False)  # the agent's own phone
    assert own.returncode == 4 and f"fxs1 is busy: it is on call {call_id}" in own.stderr
    unknown = box.ctl("calls", "monitor", call_id, "fxs9", check=False)
    assert unknown.returncode == 1 and "no phone or device 'fxs9'" in unknown.stderr

    join(box, call_id, "listen")
    listed = box.ctl("calls", "list").stdout
    assert "fxs2 (listen, joined)" in listed
    heard_before = float(box.sim("phone2", "status")["voice_s"])
    box.sim("phone1", "talk", hz=700)  # the agent speaks: the supervisor hears it
    until(lambda: float(box.sim("phone2", "status")["voice_s"]) > heard_before + 1.0,
          what="the supervisor hearing the agent")
    until(lambda: box.sim("e1a", "heard", call=call, seconds=1.0, hz=700)["share"] > 0.9,
          what="the caller hearing the agent")  # the agent keeps talking from here on
    box.sim("phone2", "talk", hz=SUPERVISOR_HZ)  # listen: the customer must not hear this
    time.sleep(1.5)  # more than the second of the caller's ear measured next
    assert caller_hears_supervisor(box, call) < 0.05

    box.sim("phone2", "hangup")  # leaving: customer and agent stay together
    until(lambda: not supervisors(box), what="the supervisor gone from the call")
    assert box.live_call(CALLER)["state"] == "talking"

    join(box, call_id, "barge")
    box.sim("phone2", "talk", hz=SUPERVISOR_HZ)
    until(lambda: caller_hears_supervisor(box, call) > 0.2, what="the caller hearing the barge")

    box.sim("e1a", "hangup", call=call)  # the customer hangs up: the supervisor is cleared
    until(lambda: not box.ctl_json("calls", "list")["calls"], what="the call ended")
    cdr = box.rows("SELECT caller, disposition FROM cdr WHERE call_id = ?", call_id)
    assert cdr == [{"caller": CALLER, "disposition": "ANSWERED"}]  # one CDR, the call's own
    audit = box.rows("SELECT action, outcome FROM audit_log WHERE action LIKE '%monitor' "
                     "AND target = ? ORDER BY id", call_id)
    assert audit.count({"action": "calls.monitor", "outcome": "ok"}) == 2  # the daemon's rows
