"""Agent logins outlive the daemon (appliance/acd/logins.py), as Asterisk's persistent members."""

from __future__ import annotations

import pytest
from acdrig import make_center, ringing_agents

from appliance.acd.engine import AcdError
from appliance.acd.logins import open_logins


def test_logins_never_ended_come_back_paused_as_they_were_and_take_calls() -> None:
    before = make_center("linear", agents=3)  # all three log in
    before.acd.pause("1002", "lunch")
    before.acd.logout("1003")
    before.clock.advance(600)
    before.acd.pause("1001", "break")
    before.acd.unpause("1001")
    logins = open_logins(before.db.conn)
    assert [(x.agent, x.device, x.pause_reason) for x in logins] == [
        ("1001", "dev1001", ""), ("1002", "dev1002", "lunch")]  # 1003 logged out

    after = make_center("linear", agents=3, login=False)  # the next process
    after.clock.advance(900)
    for x in logins:
        after.acd.restore_login(x.agent, x.device, x.since, x.pause_reason)
    states = {a["agent"]: (a["state"], a["reason"]) for a in after.acd.agent_status()}
    assert states == {"1001": ("idle", ""), "1002": ("paused", "lunch"),
                      "1003": ("logged_out", "")}
    assert not after.queue_log("AGENTLOGIN")  # the session goes on: no second login row
    with pytest.raises(AcdError, match="already logged in"):
        after.acd.restore_login("1001", "dev1001", logins[0].since, "")
    after.queue_call("sales", "0301")
    assert ringing_agents(after) == ["1001"]  # the restored agent takes calls


def test_a_login_whose_phone_another_agent_holds_is_refused() -> None:
    center = make_center("linear", agents=2, login=False)
    center.acd.login("1001", "dev1001")
    with pytest.raises(AcdError, match="held by agent 1001"):
        center.acd.restore_login("1002", "dev1001", center.clock.time(), "")
