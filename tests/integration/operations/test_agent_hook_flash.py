"""Hook-flash consultation on an agent's phone goes through the call core and the ACD
(issue 12 structural step, ACD-4): before, a flash during a queue call gave the agent
dial tone while the caller stayed bridged, and nothing was logged.

Agent 1001 (Ada, fxs1) talks to a customer on the E1 span; she flashes (the caller is
held: HOLD in queue_log), keys 202, flashes back (consultation dropped), flashes and
keys 202 again, and once 202 answers hangs up: the caller is handed to 202.
"""

from __future__ import annotations

import time

import pytest
from acd_traffic import (
    ada_with_a_customer,
    agent,
    caller_hears,
    port_state,
    rings,
    rung,
)
from operations_rig import Appliance, until

pytestmark = pytest.mark.integration

CALLER = "13900000051"
AGENT_HZ = 700
COLLEAGUE_HZ = 1500






def ring_202(box: Appliance) -> None:
    before = rings(box, "phone2")
    box.sim("phone1", "flash")
    until(lambda: box.live_call(CALLER)["state"] == "held", what="the caller held by the flash")
    time.sleep(0.5)  # the dial tone
    box.sim("phone1", "dial", digits="202")
    rung(box, "phone2", before, "202 ringing for the consultation")


def test_flash_dial_and_hang_up_hands_the_caller_to_a_colleague(appliance: Appliance) -> None:
    box = appliance
    call, call_id = ada_with_a_customer(box, CALLER)
    box.sim("phone1", "talk", hz=AGENT_HZ)
    until(lambda: caller_hears(box, call, AGENT_HZ) > 0.8, what="the caller hearing Ada")

    ring_202(box)
    box.sim("phone2", "lift")
    time.sleep(1.5)
    assert caller_hears(box, call, AGENT_HZ) < 0.05, "a held caller must not hear the agent"
    box.sim("phone1", "flash")  # back to the caller: 202 is dropped
    until(lambda: box.live_call(CALLER)["state"] == "talking", what="the caller back")
    until(lambda: caller_hears(box, call, AGENT_HZ) > 0.8, what="the caller hearing Ada again")
    # 202 hears busy tone and puts the receiver down
    until(lambda: port_state(box, "fxs2") == "idle", what="202 cleared and on hook")

    ring_202(box)
    box.sim("phone2", "lift")
    box.sim("phone2", "talk", hz=COLLEAGUE_HZ)
    box.sim("phone1", "hangup")  # Ada hangs up: the caller goes to 202
    until(lambda: agent(box, "1001")["state"] in ("wrapup", "idle"), what="Ada freed")
    until(lambda: caller_hears(box, call, COLLEAGUE_HZ) > 0.8, what="the caller talking to 202")

    box.sim("e1a", "hangup", call=call)
    until(lambda: not box.ctl_json("calls", "list")["calls"], what="the call ended")
    events = [r["event"] for r in box.rows(
        "SELECT event FROM queue_log WHERE call_id = ? ORDER BY id", call_id)]
    assert events.count("HOLD") == 2 and "ATTENDEDTRANSFER" in events, events
    (cdr,) = box.rows("SELECT caller, disposition, agent FROM cdr WHERE call_id = ?", call_id)
    assert cdr == {"caller": CALLER, "disposition": "ANSWERED", "agent": "1001"}
