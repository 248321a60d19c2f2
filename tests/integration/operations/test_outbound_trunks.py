"""Outside numbers go out on the E1 span first and fail over to an FXO line when the span
is down (issue 12.9): before, forward, transfer and click-to-dial only ever used FXO lines.

Driven as an admin would: ``appliancectl calls originate`` (click-to-dial) on the
live daemons; the carrier's side is read from the simulators (``hil ctl``).
"""

from __future__ import annotations

from typing import Any

import pytest
from acd_traffic import ada_with_a_customer, agent, port_state
from operations_rig import Appliance, until

pytestmark = pytest.mark.integration

CUSTOMER = "013812345678"
SECOND = "013887654321"


def cdr(appliance: Appliance, call_id: str) -> dict[str, Any]:
    (row,) = until(lambda: appliance.rows("SELECT * FROM cdr WHERE call_id = ?", call_id),
                   timeout=30, what=f"the CDR of {call_id}")
    return row


def test_click_to_dial_goes_out_on_the_span_then_on_a_line_when_the_span_is_down(
    appliance: Appliance,
) -> None:
    appliance.span_up()
    appliance.ctl("agents", "login", "1001", "fxs1")

    placed = appliance.ctl_json("calls", "originate", "1001", CUSTOMER)
    out = until(lambda: next((c for c in appliance.sim("e1a", "status")["from_appliance"]
                              if c["called"] == CUSTOMER and c["state"] == "connected"), None),
                timeout=30, what="the carrier answering a SETUP from the box on e1a")
    assert out["calling"] == "201"  # Ada's extension as the calling number
    row = appliance.live_call("201")
    assert (row["call_id"], row["callee"]) == (placed["call_id"], CUSTOMER)
    appliance.ctl("calls", "hangup", placed["call_id"])
    record = cdr(appliance, placed["call_id"])
    assert (record["caller"], record["callee"], record["trunk"]) == ("201", CUSTOMER, "e1a")

    until(lambda: port_state(appliance, "fxs1") == "idle",
          what="Ada's phone back on hook")  # else the next click-to-dial finds it busy
    appliance.sim("e1a", "fault", los=True)  # the span loses its signal
    until(lambda: next(s for s in appliance.ctl_json("spans", "list")["spans"]
                       if s["name"] == "e1a")["state"] != "up", what="span e1a down")
    placed = appliance.ctl_json("calls", "originate", "1001", SECOND)
    until(lambda: appliance.sim("line1", "status")["dialled"] == SECOND,
          timeout=30, what="line 1 dialling the number instead")
    assert not any(c["called"] == SECOND
                   for c in appliance.sim("e1a", "status")["from_appliance"])
    appliance.ctl("calls", "hangup", placed["call_id"])
    assert cdr(appliance, placed["call_id"])["trunk"] == "fxo1"


def test_an_agent_transfers_a_customer_to_an_outside_number_over_the_span(
    appliance: Appliance,
) -> None:
    _sim_call, call_id = ada_with_a_customer(appliance, "13900000041", channel=5)
    appliance.ctl("calls", "transfer", "1001", f"external:{CUSTOMER}")
    out = until(lambda: next((c for c in appliance.sim("e1a", "status")["from_appliance"]
                              if c["called"] == CUSTOMER and c["state"] == "connected"), None),
                timeout=30, what="the transfer's SETUP answered on e1a")
    assert out["channel"] != 5  # a second B-channel: trunk to trunk through the box
    until(lambda: agent(appliance, "1001")["state"] in ("wrapup", "idle"),
          what="Ada free of the call")
    events = [r["event"] for r in appliance.rows(
        "SELECT event FROM queue_log WHERE call_id = ? ORDER BY id", call_id)]
    assert "BLINDTRANSFER" in events, events
