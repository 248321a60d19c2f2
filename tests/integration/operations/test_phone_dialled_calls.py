"""Calls keyed on the box's own phones are calls of the call core (issue 12 structural step):
before, the analog switch connected them itself, so an agent's ``9`` + number or a call to
a colleague's extension had no CDR, no ``calls list`` row, no recording, and never went
out on the E1 span.

Ada (agent 1001, fxs1) lifts her phone and keys 9 + a customer's number; Grace's phone
(fxs2, nobody logged in) keys Ada's extension 201.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from acd_traffic import port_state
from operations_rig import Appliance, until

pytestmark = pytest.mark.integration

CUSTOMER = "013812345670"


def cdr(appliance: Appliance, callee: str) -> dict[str, Any]:
    (row,) = until(lambda: appliance.rows("SELECT * FROM cdr WHERE callee = ?", callee),
                   timeout=30, what=f"the CDR of the call to {callee}")
    return row




def test_an_agent_dials_out_on_the_span_and_a_phone_calls_an_extension(
    appliance: Appliance,
) -> None:
    appliance.span_up()
    appliance.ctl("agents", "login", "1001", "fxs1")

    appliance.sim("phone1", "lift")
    until(lambda: port_state(appliance, "fxs1") == "dialtone", what="dial tone on phone 1")
    appliance.sim("phone1", "dial", digits=f"9{CUSTOMER}")
    out = until(lambda: next((c for c in appliance.sim("e1a", "status")["from_appliance"]
                              if c["called"] == CUSTOMER and c["state"] == "connected"), None),
                timeout=30, what="the customer answering a SETUP from the box on e1a")
    assert out["calling"] == "201"
    row = appliance.live_call("201")
    assert (row["direction"], row["callee"], row["agent"]) == ("outbound", CUSTOMER, "1001")
    until(lambda: appliance.live_call("201")["state"] == "talking", what="the call bridged")
    until(lambda: port_state(appliance, "fxs1") == "connected", what="phone 1 connected")
    until(lambda: appliance.rows("SELECT id FROM recordings WHERE call_id = ?", row["call_id"]),
          what="the call recorded (policy all)")
    appliance.sim("phone1", "hangup")
    record = cdr(appliance, CUSTOMER)
    assert (record["caller"], record["trunk"], record["agent"], record["caller_name"],
            record["disposition"]) == ("201", "e1a", "1001", "Ada", "ANSWERED")
    until(lambda: not any(c["called"] == CUSTOMER and c["state"] == "connected"
                          for c in appliance.sim("e1a", "status")["from_appliance"]),
          what="the carrier seeing the call cleared")

    until(lambda: port_state(appliance, "fxs1") == "idle", what="phone 1 back on hook")
    appliance.sim("phone2", "lift")
    until(lambda: port_state(appliance, "fxs2") == "dialtone", what="dial tone on phone 2")
    appliance.sim("phone2", "dial", digits="201")
    until(lambda: port_state(appliance, "fxs1") == "connected", timeout=30,
          what="phone 1 answering the extension call")
    until(lambda: appliance.live_call("202")["state"] == "talking", what="202 and 201 talking")
    appliance.sim("phone2", "hangup")
    record = cdr(appliance, "201")
    assert (record["caller"], record["direction"], record["trunk"], record["agent"]) == (
        "202", "outbound", "", "")
    until(lambda: port_state(appliance, "fxs1") == "idle", what="phone 1 cleared")


def test_a_phone_flashes_consults_the_carrier_and_hands_its_caller_over(
    appliance: Appliance,
) -> None:
    """A PBX transfer on phones no agent is logged in at: 202 calls 201, flashes (201 is
    held), keys 9 + a number (out on the span), hangs up once it answers: 201 and the
    outside party talk on, and the call ends when 201 hangs up."""
    appliance.span_up()
    appliance.sim("phone2", "lift")
    until(lambda: port_state(appliance, "fxs2") == "dialtone", what="dial tone on phone 2")
    appliance.sim("phone2", "dial", digits="201")
    until(lambda: appliance.live_call("202")["state"] == "talking", timeout=30,
          what="phone 1 answering 202")
    appliance.sim("phone2", "flash")
    until(lambda: appliance.live_call("202")["state"] == "held", what="201 held")
    until(lambda: port_state(appliance, "fxs2") == "dialtone", what="dial tone after the flash")
    appliance.sim("phone2", "dial", digits=f"9{CUSTOMER}")
    until(lambda: any(c["called"] == CUSTOMER and c["state"] == "connected"
                      for c in appliance.sim("e1a", "status")["from_appliance"]),
          timeout=30, what="the outside party answering the consultation")
    assert appliance.live_call("202")["state"] == "held"  # 202 talks to the outside party
    appliance.sim("phone2", "hangup")  # hand 201 over
    until(lambda: port_state(appliance, "fxs2") == "idle", what="phone 2 on hook")
    time.sleep(1.0)
    assert port_state(appliance, "fxs1") == "connected"  # 201 talks on with the outside party
    assert any(c["called"] == CUSTOMER and c["state"] == "connected"
               for c in appliance.sim("e1a", "status")["from_appliance"])
    assert appliance.live_call("202")["state"] == "talking"
    appliance.sim("phone1", "hangup")
    until(lambda: not appliance.ctl_json("calls", "list")["calls"], what="the call ended")
    until(lambda: not any(c["called"] == CUSTOMER and c["state"] == "connected"
                          for c in appliance.sim("e1a", "status")["from_appliance"]),
          what="the carrier seeing the call cleared")
    record = cdr(appliance, "201")
    assert (record["caller"], record["disposition"]) == ("202", "ANSWERED")
