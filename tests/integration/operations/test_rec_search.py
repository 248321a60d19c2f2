"""Item 6 of issue 12: recordings are filed under the agent and the extension of her phone.

A customer reaches Ada (agent 1001, on fxs1, extension 201) through the queue;
the call is recorded (policy "all" on the demo rig). ``rec search`` then finds it
by the agent's id, by her display name and by her extension, as its help says,
and the index row names 201, not the port or the caller's channel.
"""

from __future__ import annotations

import json

import pytest
from acd_traffic import talking_to
from operations_rig import Appliance, until

pytestmark = pytest.mark.integration


def test_a_queue_call_is_found_by_agent_id_name_and_extension(appliance: Appliance) -> None:
    appliance.span_up()
    appliance.ctl("agents", "login", "1001", "fxs1")
    call = talking_to(appliance, "1001", "13900000021", channel=6)
    appliance.sim("e1a", "hangup", call=call)
    row = until(lambda: next(iter(appliance.rows(
        "SELECT * FROM recordings WHERE caller = '13900000021' AND status != 'recording'")), None),
        what="the recording closed")
    assert (row["agent"], row["extension"], row["queue"]) == ("1001", "201", "sales")

    for option, value in (("--agent", "1001"), ("--agent", "Ada"), ("--agent", "ada"),
                          ("--extension", "201")):
        found = json.loads(appliance.ctl("rec", "search", option, value, "--json").stdout)
        assert [r["id"] for r in found] == [row["id"]], (option, value)
    for option, value in (("--agent", "Grace"), ("--extension", "202")):
        assert json.loads(appliance.ctl("rec", "search", option, value, "--json").stdout) == []
    table = appliance.ctl("rec", "search", "--agent", "Ada").stdout
    assert "201" in table and "1001" in table


def test_a_click_to_dial_call_is_filed_under_the_agent_who_placed_it(
        appliance: Appliance) -> None:
    """Ada's phone rings first, then 202; the recording names Ada and her own 201."""
    placed = appliance.ctl_json("calls", "originate", "1001", "202")
    row = until(lambda: next(iter(appliance.rows(
        "SELECT * FROM recordings WHERE call_id = ?", placed["call_id"])), None),
        timeout=30, what="the click-to-dial call recorded")
    assert (row["agent"], row["extension"]) == ("1001", "201")
    found = json.loads(appliance.ctl("rec", "search", "--extension", "201", "--json").stdout)
    assert [r["call_id"] for r in found] == [placed["call_id"]]
