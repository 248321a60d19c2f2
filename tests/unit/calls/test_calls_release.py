"""Ending a call releases every leg through its technology.

Regression: the call model marked a leg hung up *before* asking its
technology to release it, and real technologies (FXS ports, PRI calls)
ignore a release of a leg already marked hung up, so an agent's phone was
never told the caller had gone (it stayed connected and the ACD then rang a
busy phone: RONA). The same order was used to stop ringing agents.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from appliance.calls.channel import Channel
from appliance.calls.eventlog import EventLog
from appliance.calls.model import CallManager
from appliance.runtime.clock import VirtualClock
from appliance.runtime.events import Event, EventBus


class StrictChannel(Channel):
    """Like the real technologies: a release of a leg already hung up does nothing."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.released_with: int | None = None

    def answer(self) -> None:
        pass

    def play(self, prompt: str, *, loop: bool = False) -> None:
        pass

    def stop_play(self) -> None:
        pass

    def _release(self, cause: int) -> None:
        assert self.released_with is None, "released twice"
        self.released_with = cause


class NoMediaSwitch:
    def originate(self, destination: str, caller_id: str, listener: object) -> Channel:
        raise AssertionError("not used")

    def bridge(self, channels: Sequence[Channel]) -> object:
        raise AssertionError("not used")


def manager() -> CallManager:
    clock = VirtualClock()
    return CallManager(clock, NoMediaSwitch(), EventLog(None, clock, None))  # type: ignore[arg-type]


def test_ending_a_call_releases_the_agent_leg_through_its_technology() -> None:
    calls = manager()
    caller, agent = StrictChannel("e1a/B1"), StrictChannel("fxs1")
    call = calls.new_call(caller)
    calls.add_leg(call, agent)
    calls.end(call, "ANSWERED", 16)
    assert agent.released_with == 16
    assert caller.released_with == 16


def test_dropping_a_leg_releases_it_through_its_technology() -> None:
    calls = manager()
    call = calls.new_call(StrictChannel("e1a/B2"))
    consulted = StrictChannel("fxs2")
    calls.add_leg(call, consulted)
    calls.drop_leg(call, consulted, 31)
    assert consulted.released_with == 31


def test_a_failing_bus_listener_cannot_break_the_call_path_or_other_listeners(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Issue 12: an exception in the recorder's listener never reaches the ACD's path."""
    clock = VirtualClock()
    bus = EventBus(clock.time)
    seen: list[str] = []

    def broken_recorder(event: Event) -> None:
        raise RuntimeError("disk full")

    bus.listen("call.*", broken_recorder)
    bus.listen("call.*", lambda event: seen.append(event.topic))
    calls = CallManager(clock, NoMediaSwitch(), EventLog(None, clock, None), bus)  # type: ignore[arg-type]
    caller, agent = StrictChannel("e1a/B3"), StrictChannel("fxs1")
    call = calls.new_call(caller)
    calls.add_leg(call, agent)
    calls.end(call, "ANSWERED", 16)
    assert agent.released_with == 16 and call.call_id not in calls.calls
    assert "call.leg" in seen and "call.end" in seen
    assert bus.listener_failures == len(seen)
    assert "broken_recorder failed on call.end" in caplog.text
