"""Queues, agents and IVR flows changed with ``--apply`` take effect on the live daemons
(issue 12.3), and so does a new recording policy: before, the ACD, the IVR and the
recorder kept their start-up configuration while
``config apply`` said "applied" (later: "takes effect after a restart").
"""

from __future__ import annotations

import time
import tomllib
from typing import Any

import pytest
from acd_traffic import agent
from operations_rig import Appliance, until

from appliance.config.render import render_toml

pytestmark = pytest.mark.integration

LINUS = "13900000031"
SECOND = "13900000032"


def applied(stdout: str) -> set[str]:
    """The keys telephonyd's report line says took effect; fails if any waits for a restart."""
    line = next(x for x in stdout.splitlines() if x.startswith("telephonyd:"))
    assert "restart" not in line, line
    return set(line.removeprefix("telephonyd: applied ").split(", "))


def agents(appliance: Appliance) -> list[str]:
    return [a["agent"] for a in appliance.ctl_json("agents", "list")["agents"]]


def test_an_agent_added_live_takes_a_call_and_removed_live_leaves_after_it(
    appliance: Appliance,
) -> None:
    appliance.span_up()
    refused = appliance.ctl("agents", "login", "1004", "fxs2", check=False)
    assert refused.returncode != 0 and "unknown agent" in refused.stderr

    done = appliance.ctl("agents", "add", "1004", "--name", "Margaret", "--device", "fxs2",
                         "--queue", "sales", "--apply")
    assert applied(done.stdout) == {"acd.agents", "acd.queues"}
    appliance.ctl("agents", "login", "1004")  # on her configured phone, fxs2
    assert agent(appliance, "1004")["display_name"] == "Margaret"

    call = appliance.e1_call(channel=2, calling=LINUS)
    until(lambda: appliance.sim("e1a", "status")["calls"][str(call)]["state"] == "connected",
          what="the IVR answering")
    appliance.sim("e1a", "dtmf", call=call, digits="1")
    until(lambda: agent(appliance, "1004")["state"] == "talking", timeout=30,
          what="phone 2 answering for Margaret")
    call_id = appliance.live_call(LINUS)["call_id"]
    until(lambda: appliance.rows("SELECT id FROM recordings WHERE call_id = ?", call_id),
          what="the call recorded (policy all)")

    done = appliance.ctl("agents", "remove", "1004", "--apply")
    assert applied(done.stdout) == {"acd.agents", "acd.queues"}
    assert agent(appliance, "1004")["state"] == "talking"  # her call goes on
    assert not appliance.rows("SELECT * FROM queue_log WHERE event = 'AGENTLOGOFF'")

    appliance.sim("e1a", "hangup", call=call)
    until(lambda: "1004" not in agents(appliance), timeout=30,
          what="Margaret gone once his call and wrap-up are over")
    events = [r["event"] for r in appliance.rows(
        "SELECT event FROM queue_log WHERE agent = '1004' ORDER BY id")]
    assert events[0] == "AGENTLOGIN" and events[-1] == "AGENTLOGOFF", events
    assert "COMPLETECALLER" in events


def test_a_queue_and_a_menu_branch_added_live_route_the_next_caller(
    appliance: Appliance,
) -> None:
    appliance.span_up()
    done = appliance.ctl("queues", "add", "billing", "--strategy", "linear",
                         "--member", "1002", "--apply")
    assert applied(done.stdout) == {"acd.queues"}
    listed = {q["queue"]: q for q in appliance.ctl_json("queues", "list")["queues"]}
    assert listed["billing"]["strategy"] == "linear"
    refused = appliance.ctl("queues", "remove", "sales", "--apply", check=False)
    assert refused.returncode == 4  # the menu sends callers there: the reason is named
    assert "flow main, node sales: queue 'sales' is not defined" in refused.stderr

    tree: dict[str, Any] = tomllib.loads(appliance.config.read_text())
    nodes = tree["ivr"]["flows"][0]["nodes"]
    menu = next(n for n in nodes if n["name"] == "menu")
    menu["choices"]["2"] = "billing"
    nodes.append({"name": "billing", "type": "queue", "queue": "billing", "on_empty": "bye"})
    tree.setdefault("recording", {})["policy"] = "none"  # and stop recording from now on
    appliance.config.write_text(render_toml(tree))
    done = appliance.ctl("config", "apply", str(appliance.config))
    assert applied(done.stdout) == {"ivr.flows", "recording.policy"}

    appliance.ctl("agents", "login", "1002", "fxs2")
    call = appliance.e1_call(channel=3, calling=SECOND)
    until(lambda: appliance.sim("e1a", "status")["calls"][str(call)]["state"] == "connected",
          what="the IVR answering")
    appliance.sim("e1a", "dtmf", call=call, digits="2")
    until(lambda: agent(appliance, "1002")["state"] == "talking", timeout=30,
          what="Grace answering a billing call")
    row = appliance.live_call(SECOND)
    assert row["queue"] == "billing"
    (enter,) = appliance.rows(
        "SELECT queue FROM queue_log WHERE call_id = ? AND event = 'ENTERQUEUE'", row["call_id"])
    assert enter["queue"] == "billing"
    time.sleep(3)  # a recording would have started at the bridge
    assert not appliance.rows("SELECT id FROM recordings WHERE call_id = ?", row["call_id"])
