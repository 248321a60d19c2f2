"""``kill -9`` of telephonyd during an answered queue call, then a start (issue 12 item 12).

The call in progress must come back as one CDR marked INTERRUPTED, its queue_log
session closed, its recording indexed with its real length; the agent's login
died with the process, so the agent logs in again.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from acd_traffic import agent
from operations_rig import Appliance, until

pytestmark = pytest.mark.integration

CALLER = "13900000044"


def test_kill_9_mid_call_leaves_an_interrupted_cdr_a_closed_queue_log_and_a_recording(
    appliance: Appliance,
) -> None:
    appliance.span_up()
    appliance.ctl("agents", "login", "1001", "fxs1")
    appliance.ctl("agents", "login", "1002", "fxs2")
    appliance.ctl("agents", "pause", "1002", "--reason", "lunch")
    sim_call = appliance.e1_call(channel=4, calling=CALLER)
    row = appliance.live_call(CALLER)
    call_id = row["call_id"]
    until(lambda: appliance.sim("e1a", "status")["calls"][str(sim_call)]["state"] == "connected",
          what="the IVR answering the caller")
    appliance.sim("e1a", "dtmf", call=sim_call, digits="1")  # menu key 1: sales
    until(lambda: agent(appliance, "1001")["state"] == "talking", timeout=30,
          what="phone 1 auto-answering the queue call")
    until(lambda: appliance.rows("SELECT 1 FROM live_calls WHERE call_id = ? AND agent = '1001'",
                                 call_id), what="the call journaled as connected")
    until(lambda: appliance.rows("SELECT 1 FROM recordings WHERE call_id = ?", call_id),
          what="the recording starting")
    time.sleep(2.0)  # some audio on disk

    appliance.kill("telephonyd")
    assert appliance.rows("SELECT 1 FROM cdr WHERE call_id = ?", call_id) == []
    appliance.start_daemon("telephonyd")

    def cdr() -> list[dict[str, Any]]:
        return [r for r in appliance.ctl_json("report", "cdr", "--from", "0",
                                              "--to", str(int(time.time()) + 60))["rows"]
                if r.get("call_id") == call_id]

    (record,) = until(cdr, what="the interrupted CDR in report cdr")
    assert (record["disposition"], record["agent"], record["queue"]) == (
        "INTERRUPTED", "1001", "sales")
    assert appliance.rows("SELECT * FROM live_calls") == []
    events = [r["event"] for r in appliance.rows(
        "SELECT event FROM queue_log WHERE call_id = ? ORDER BY id", call_id)]
    assert events[-2:] == ["CONNECT", "COMPLETEAGENT"], events
    found = appliance.ctl_json("rec", "search", "--call-id", call_id)
    recordings = found["recordings"] if isinstance(found, dict) else found
    (rec,) = recordings
    assert rec["status"] == "recovered" and float(rec["duration"]) > 0, rec
    (event,) = appliance.rows("SELECT detail FROM service_events WHERE event = 'calls_interrupted'")
    assert call_id in event["detail"]
    ada, grace = agent(appliance, "1001"), agent(appliance, "1002")
    assert (ada["state"], ada["device"]) == ("idle", "fxs1"), ada  # no login again
    assert (grace["state"], grace["reason"]) == ("paused", "lunch"), grace
    logins = appliance.rows("SELECT agent FROM queue_log WHERE event = 'AGENTLOGIN'")
    assert sorted(r["agent"] for r in logins) == ["1001", "1002"]  # one session each
    assert appliance.rows("SELECT 1 FROM queue_log WHERE event = 'AGENTLOGOFF'") == []
