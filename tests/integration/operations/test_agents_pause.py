"""Item 5 of issue 12: a pause asked for during a call waits for the call and its wrap-up.

A supervisor pauses Ada while she talks to a customer: ``agents list`` shows
her still talking with the pause pending, and once the customer hangs up and
the queue's wrap-up (5 s on the demo rig) is over she is paused, as queue_log
says (PAUSE after WRAPUPEND), and no further call is offered to her.
"""

from __future__ import annotations

import pytest
from acd_traffic import agent, talking_to
from operations_rig import Appliance, until

pytestmark = pytest.mark.integration


def test_a_pause_during_a_call_is_pending_until_wrapup_ends(appliance: Appliance) -> None:
    appliance.span_up()
    appliance.ctl("agents", "login", "1001", "fxs1")
    call = talking_to(appliance, "1001", "13900000005", channel=3)

    said = appliance.ctl("agents", "pause", "1001", "--reason", "lunch")
    assert "pending" in said.stdout and "lunch" in said.stdout
    ada = agent(appliance, "1001")
    assert ada["state"] == "talking" and ada["pending_pause"] == "lunch"
    table = appliance.ctl("agents", "list").stdout
    assert "pending: lunch" in table

    appliance.sim("e1a", "hangup", call=call)
    until(lambda: agent(appliance, "1001")["state"] == "wrapup", what="Ada in wrap-up")
    until(lambda: agent(appliance, "1001")["state"] == "paused", timeout=20, what="Ada paused")
    ada = agent(appliance, "1001")
    assert ada["reason"] == "lunch" and not ada["pending_pause"]
    events = [r["event"] for r in appliance.rows(
        "SELECT event FROM queue_log WHERE agent = '1001' ORDER BY id")]
    assert events[-2:] == ["WRAPUPEND", "PAUSE"]
    audit = appliance.rows("SELECT outcome FROM audit_log WHERE action = 'agent.pause'")
    assert audit == [{"outcome": "ok"}]


def test_unpause_while_pending_cancels_the_pause(appliance: Appliance) -> None:
    appliance.span_up()
    appliance.ctl("agents", "login", "1001", "fxs1")
    call = talking_to(appliance, "1001", "13900000006", channel=4)
    appliance.ctl("agents", "pause", "1001", "--reason", "break")
    said = appliance.ctl("agents", "unpause", "1001")
    assert "talking" in said.stdout
    assert not agent(appliance, "1001")["pending_pause"]
    appliance.sim("e1a", "hangup", call=call)
    until(lambda: agent(appliance, "1001")["state"] == "idle", timeout=20, what="Ada idle")
    assert "PAUSE" not in [r["event"] for r in appliance.rows(
        "SELECT event FROM queue_log WHERE agent = '1001'")]
