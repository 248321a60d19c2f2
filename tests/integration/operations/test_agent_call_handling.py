"""Issue 12 item 10, hold / consult / three-way / attended transfer from ``appliancectl``
(ACD-4) on the running appliance: a customer on the E1 span talks to agent 1001 on phone1;
the supervisor's shell holds and takes back the caller, rings 202 (phone2) for a
consultation while the caller waits, brings all three together, then hands the caller to
202 and frees the agent. Each step is checked by ear at the far ends (the E1 caller's and
the simulated phones'), and in queue_log, the CDR and the audit log."""

from __future__ import annotations

import time

import pytest
from acd_traffic import ada_with_a_customer, agent, caller_hears, rings, rung
from operations_rig import Appliance, until

pytestmark = pytest.mark.integration

CALLER = "13800138000"
AGENT_HZ = 700  # the agent's voice
COLLEAGUE_HZ = 1500  # 202's voice, told apart by frequency




def caller_stops_hearing(box: Appliance, call: int, hz: int, what: str) -> None:
    time.sleep(1.5)  # more than the second of the caller's ear measured
    assert caller_hears(box, call, hz) < 0.05, what


def test_hold_consult_three_way_and_attended_transfer_from_the_shell(
        appliance: Appliance) -> None:
    box = appliance
    call, call_id = ada_with_a_customer(box, CALLER)
    box.sim("phone1", "talk", hz=AGENT_HZ)
    until(lambda: caller_hears(box, call, AGENT_HZ) > 0.8, what="the caller hearing the agent")

    nobody = box.ctl("calls", "hold", "1009", check=False)
    assert nobody.returncode == 4 and "1009" in nobody.stderr

    assert "agent 1001: caller on hold" in box.ctl("calls", "hold", "1001").stdout
    caller_stops_hearing(box, call, AGENT_HZ, "a held caller must not hear the agent")
    assert "agent 1001: caller back from hold" in box.ctl("calls", "unhold", "1001").stdout
    until(lambda: caller_hears(box, call, AGENT_HZ) > 0.8, what="the caller back with the agent")

    unknown = box.ctl("calls", "consult", "1001", "299", check=False)
    assert unknown.returncode == 4 and "299" in unknown.stderr
    assert box.live_call(CALLER)["state"] == "talking"  # a refused consultation holds nobody
    before = rings(box, "phone2")
    said = box.ctl("calls", "consult", "1001", "202").stdout
    assert "agent 1001: caller on hold, ringing 202" in said
    rung(box, "phone2", before, "202 ringing")
    box.sim("phone2", "lift")
    heard = float(box.sim("phone2", "status")["voice_s"])
    until(lambda: float(box.sim("phone2", "status")["voice_s"]) > heard + 1.0,
          what="202 hearing the agent")
    box.sim("phone2", "talk", hz=COLLEAGUE_HZ)
    caller_stops_hearing(box, call, COLLEAGUE_HZ, "the consultation is not for the caller")
    assert caller_hears(box, call, AGENT_HZ) < 0.05

    assert "agent 1001: three-way call" in box.ctl("calls", "three-way", "1001").stdout
    until(lambda: caller_hears(box, call, COLLEAGUE_HZ) > 0.2, what="the caller hearing 202")
    until(lambda: caller_hears(box, call, AGENT_HZ) > 0.2, what="the caller hearing the agent")

    said = box.ctl("calls", "transfer-complete", "1001").stdout
    assert "agent 1001: caller handed to the consulted party" in said
    until(lambda: agent(box, "1001")["state"] in ("wrapup", "idle"), what="the agent freed")
    caller_stops_hearing(box, call, AGENT_HZ, "the agent has left the call")
    assert caller_hears(box, call, COLLEAGUE_HZ) > 0.8  # caller and 202 talk on

    box.sim("e1a", "hangup", call=call)
    until(lambda: not box.ctl_json("calls", "list")["calls"], what="the call ended")
    events = [r["event"] for r in box.rows(
        "SELECT event FROM queue_log WHERE call_id = ? ORDER BY id", call_id)]
    assert events.count("HOLD") == 2 and events.count("UNHOLD") == 2, events
    assert "ATTENDEDTRANSFER" in events
    cdr = box.rows("SELECT caller, disposition FROM cdr WHERE call_id = ?", call_id)
    assert cdr == [{"caller": CALLER, "disposition": "ANSWERED"}]
    audit = box.rows("SELECT action, outcome FROM audit_log WHERE target = '1001' "
                     "AND actor != '' ORDER BY id")
    done = [a["action"] for a in audit if a["outcome"] == "ok"]
    for action in ("call.hold", "call.unhold", "call.consult", "call.three_way",
                   "call.transfer_complete"):
        assert action in done, (action, audit)
    assert any(a["action"] == "call.consult" and a["outcome"].startswith("refused")
               for a in audit), audit
