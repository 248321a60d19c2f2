"""Agent requests the way a supervisor makes them: pause during a call, names, log-in checks."""

from __future__ import annotations

import pytest
from acdrig import answer, make_center

from appliance.acd.engine import AcdError


def status(center, agent_id: str) -> dict:
    return next(a for a in center.acd.agent_status() if a["agent"] == agent_id)


def test_a_pause_during_a_call_is_shown_pending_and_taken_after_wrapup() -> None:
    center = make_center("linear", agents=1, wrapup=10)
    center.queue_call("sales", "0301")
    leg = answer(center, "1001")
    center.acd.pause("1001", "lunch")
    ada = status(center, "1001")
    assert (ada["state"], ada["pending_pause"], ada["reason"]) == ("talking", "lunch", "")
    leg.far_hangup()
    center.clock.advance(1.0)
    assert status(center, "1001")["state"] == "wrapup"
    assert status(center, "1001")["pending_pause"] == "lunch"
    center.clock.advance(10.0)
    ada = status(center, "1001")
    assert (ada["state"], ada["reason"], ada["pending_pause"]) == ("paused", "lunch", "")
    assert [r["event"] for r in center.queue_log()][-2:] == ["WRAPUPEND", "PAUSE"]


def test_unpause_cancels_a_pending_pause() -> None:
    center = make_center("linear", agents=1, wrapup=0)
    center.queue_call("sales", "0301")
    leg = answer(center, "1001")
    center.acd.pause("1001", "break")
    center.acd.unpause("1001")
    assert status(center, "1001")["pending_pause"] == ""
    leg.far_hangup()
    center.clock.advance(1.0)
    assert status(center, "1001")["state"] == "idle"
    assert "PAUSE" not in [r["event"] for r in center.queue_log()]


def test_agent_names_come_from_the_configuration() -> None:
    center = make_center("linear", agents=1)
    center.acd.agents["1001"].name = "Ada"
    assert center.acd.agent_name("1001") == "Ada"
    assert center.acd.agent_name("201") == ""  # click-to-dial from a phone with no agent


def test_login_refuses_a_device_the_box_does_not_have() -> None:
    center = make_center("linear", agents=2, login=False)
    center.acd.devices = {"dev1001": "fxs1", "201": "fxs1", "dev1002": "fxs2"}.get
    with pytest.raises(AcdError, match=r"no device 'fxs9'"):
        center.acd.login("1001", "fxs9")
    assert status(center, "1001")["state"] == "logged_out"
    assert "AGENTLOGIN" not in [r["event"] for r in center.queue_log()]


def test_login_refuses_a_phone_another_agent_holds_by_any_of_its_names() -> None:
    center = make_center("linear", agents=2, login=False)
    center.acd.devices = {"dev1001": "fxs1", "201": "fxs1", "dev1002": "fxs2"}.get
    center.acd.login("1001")  # on dev1001, the phone fxs1
    with pytest.raises(AcdError, match=r"device 201 is held by agent 1001"):
        center.acd.login("1002", "201")  # the same phone by its extension
    center.acd.logout("1001")
    center.acd.login("1002", "201")
    assert status(center, "1002")["state"] == "idle"


def test_without_a_directory_the_same_device_name_is_still_refused() -> None:
    center = make_center("linear", agents=2, login=False)
    center.acd.login("1001", "sip/alice")
    with pytest.raises(AcdError, match="held by agent 1001"):
        center.acd.login("1002", "sip/alice")
