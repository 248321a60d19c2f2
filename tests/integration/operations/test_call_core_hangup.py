"""A supervisor hangs up an answered queue call: it ends as a caller's hang-up does (issue 12.1).

Before the fix the agent stayed ``talking`` forever (CONNECT without
COMPLETE* in queue_log, no wrap-up) after ``appliancectl calls hangup``.
"""

from __future__ import annotations

from typing import Any

import pytest
from acd_traffic import agent
from operations_rig import Appliance, until

pytestmark = pytest.mark.integration

CALLER = "13900000012"


def test_supervisor_hangup_completes_the_call_and_wraps_the_agent_up(
    appliance: Appliance,
) -> None:
    appliance.span_up()
    appliance.ctl("agents", "login", "1001", "fxs1")
    assert agent(appliance, "1001")["state"] == "idle"
    sim_call = appliance.e1_call(channel=4, calling=CALLER)
    row = appliance.live_call(CALLER)
    until(lambda: appliance.sim("e1a", "status")["calls"][str(sim_call)]["state"] == "connected",
          what="the IVR answering the caller")
    appliance.sim("e1a", "dtmf", call=sim_call, digits="1")  # menu key 1: sales
    until(lambda: agent(appliance, "1001")["state"] == "talking", timeout=30,
          what="phone 1 auto-answering the queue call")
    until(lambda: appliance.rows("SELECT status FROM recordings WHERE call_id = ?",
                                 row["call_id"]), what="the recording starting")

    done = appliance.ctl("calls", "hangup", row["call_id"])
    assert f"{row['call_id']}: cleared (cause 16)" in done.stdout

    until(lambda: agent(appliance, "1001")["state"] == "wrapup", what="agent 1001 in wrap-up")
    until(lambda: agent(appliance, "1001")["state"] == "idle", timeout=30,
          what="agent 1001 idle after the 5 s wrap-up")
    assert all(c["call_id"] != row["call_id"]
               for c in appliance.ctl_json("calls", "list")["calls"])
    events = [r["event"] for r in appliance.rows(
        "SELECT event FROM queue_log WHERE call_id = ? ORDER BY id", row["call_id"])]
    assert events[-2:] == ["CONNECT", "COMPLETECALLER"], events

    def cdr() -> list[dict[str, Any]]:
        return appliance.rows("SELECT * FROM cdr WHERE call_id = ?", row["call_id"])

    (record,) = until(cdr, what="the CDR")
    assert (record["disposition"], record["agent"], record["queue"], record["trunk"]) == (
        "ANSWERED", "1001", "sales", "e1a")
    until(lambda: appliance.rows(
        "SELECT status FROM recordings WHERE call_id = ? AND status != 'recording'",
        row["call_id"]), what="the recording closed")
    until(lambda: appliance.sim("e1a", "status")["calls"][str(sim_call)]["state"] != "connected",
          what="the carrier seeing the call cleared")
