"""A new [acd] on the running ACD (Acd.reconfigure, issue 12.3): calls and logins survive it."""

from __future__ import annotations

from typing import Any

import pytest
from acdrig import answer, make_center, ringing_agents

from appliance.acd.engine import AcdError
from appliance.config.sections.acd import AcdSection
from hil.traffic.center import SimCenter, section


def acd(queues: list[dict[str, Any]], agents: list[str], **extra: Any) -> AcdSection:
    rows = [{"id": a, "device": f"dev{a}", "name": f"Agent {a}"} for a in agents]
    return section(AcdSection, {"queues": queues, "agents": rows, **extra}, "acd")  # type: ignore[no-any-return]


def states(center: SimCenter) -> dict[str, str]:
    return {a["agent"]: a["state"] for a in center.acd.agent_status()}


def test_a_queue_added_live_takes_calls_and_members_change_under_a_waiting_caller() -> None:
    center = make_center("linear", agents=2)  # sales: 1001, 1002, both logged in
    changes = center.acd.reconfigure(acd(
        [{"name": "sales", "strategy": "linear", "members": ["1001"]},
         {"name": "billing", "strategy": "linear", "members": ["1002"]}],
        ["1001", "1002"]))
    assert changes.queues_added == ["billing"] and changes.queues_changed == ["sales"]
    assert changes.agents_changed == ["1001", "1002"]  # they now have names
    center.queue_call("billing", "0301")
    assert ringing_agents(center) == ["1002"]
    assert center.queue_log("ENTERQUEUE")[-1]["queue"] == "billing"
    assert states(center) == {"1001": "idle", "1002": "ringing"}  # logins kept


def test_a_waiting_caller_is_served_by_a_member_added_live() -> None:
    center = make_center("linear", agents=2, login=False)
    center.acd.login("1002")
    center.acd.reconfigure(acd([{"name": "sales", "members": ["1001"], "join_empty": "always",
                                 "leave_empty": "never"}], ["1001", "1002"]))
    center.queue_call("sales", "0301")
    assert ringing_agents(center) == []  # 1002 is logged in but serves no queue
    center.acd.reconfigure(acd([{"name": "sales", "members": ["1001", "1002"],
                                 "join_empty": "always", "leave_empty": "never"}],
                               ["1001", "1002"]))
    assert ringing_agents(center) == ["1002"]  # the same caller, without re-entering
    assert len(center.queue_log("ENTERQUEUE")) == 1


def test_a_removed_queue_lets_its_callers_leave_as_empty_and_takes_no_new_call() -> None:
    center = make_center("linear", agents=1, login=False,
                         queues=[{"name": "sales", "members": ["1001"], "join_empty": "always",
                                  "leave_empty": "never"},
                                 {"name": "spare", "members": []}])
    call, _ = center.queue_call("sales", "0301")
    changes = center.acd.reconfigure(acd([{"name": "spare", "members": []}], ["1001"]))
    assert changes.queues_removed == ["sales"]
    (row,) = center.queue_log("EXITEMPTY")
    assert row["queue"] == "sales"
    assert [e.kind for e in center.exits[call.call_id]] == ["empty"]
    with pytest.raises(AcdError, match="unknown queue 'sales'"):
        center.queue_call("sales", "0302")


def test_an_agent_removed_during_a_call_finishes_it_and_is_then_logged_out() -> None:
    center = make_center("linear", agents=2)
    center.queue_call("sales", "0301")
    leg = answer(center, "1001")
    changes = center.acd.reconfigure(acd([{"name": "sales", "members": ["1002"]}], ["1002"]))
    assert changes.agents_removed == ["1001"]
    assert states(center)["1001"] == "talking"  # the call goes on
    assert not center.queue_log("AGENTLOGOFF")
    center.clock.advance(30)
    leg.far_hangup()
    center.clock.advance(1)
    assert center.queue_log("COMPLETEAGENT")
    (logoff,) = center.queue_log("AGENTLOGOFF")
    assert logoff["agent"] == "1001"
    assert "1001" not in states(center)
    center.queue_call("sales", "0302")
    assert ringing_agents(center) == ["1002"]


def test_an_idle_agent_removed_is_logged_out_at_once_and_can_come_back() -> None:
    center = make_center("linear", agents=2)
    center.acd.reconfigure(acd([{"name": "sales", "members": ["1002"]}], ["1002"]))
    assert [r["agent"] for r in center.queue_log("AGENTLOGOFF")] == ["1001"]
    with pytest.raises(AcdError, match="unknown agent"):
        center.acd.login("1001")
    center.acd.reconfigure(acd([{"name": "sales", "members": ["1001", "1002"]}],
                               ["1001", "1002"]))
    center.acd.login("1001")
    assert states(center) == {"1001": "idle", "1002": "idle"}


def test_a_configuration_with_a_broken_reference_changes_nothing() -> None:
    center = make_center("linear", agents=1)
    with pytest.raises(AcdError, match="agent 1009 is not defined"):
        center.acd.reconfigure(acd([{"name": "sales", "members": ["1009"]},
                                    {"name": "new", "members": []}], ["1001"]))
    assert list(center.acd.queues) == ["sales"]
    assert states(center) == {"1001": "idle"}


def test_new_pause_reasons_apply_at_once() -> None:
    center = make_center("linear", agents=1)
    with pytest.raises(AcdError, match="unknown"):
        center.acd.pause("1001", "coaching")
    center.acd.reconfigure(acd([{"name": "sales", "members": ["1001"]}], ["1001"],
                               pause_reasons=["coaching"]))
    center.acd.pause("1001", "coaching")
    assert states(center) == {"1001": "paused"}
