"""The field engineer's Span screen with a customer on the E1 span (issue 12 item 2)."""

from __future__ import annotations

import pytest
from console_terminal import Terminal
from operations_rig import Appliance, until

pytestmark = pytest.mark.integration


def test_span_screen_shows_the_call_on_its_b_channel(appliance: Appliance,
                                                      console: Terminal) -> None:
    appliance.span_up()
    appliance.ctl("agents", "login", "1001", "fxs1")
    sim_call = appliance.e1_call(channel=3, calling="13800000003")
    appliance.live_call("13800000003")
    appliance.sim("e1a", "dtmf", call=sim_call, digits="1")
    until(lambda: next((c for c in appliance.ctl_json("calls", "list")["calls"]
                               if c["caller"] == "13800000003" and c["state"] == "talking"), None),
                 what="Ada talking to the caller")
    console.wait_for("SPANS", timeout=15)
    console.keys("s")
    screen = console.wait_for("03 BUSY", timeout=10)
    assert "Counters BPV" in screen
    assert all(len(line) <= 80 for line in screen.splitlines())
    console.keys("o")
    console.wait_for("CALLS UP 1")
    assert "Traceback" not in console.errors()

