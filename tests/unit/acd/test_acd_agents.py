"""Agent requests the way a supervisor makes them: pause during a call, names, log-in checks."""

from __future__ import annotations

from acdrig import answer, make_center


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
