"""Item 8 of issue 12: a span's maintenance commands answer the state they produced.

``spans loopback e1a local`` answers the span in alarm with the loopback alarm
(not the state before the command), ``off`` answers it cleared; a B-channel
busied out shows on the console's Span screen as OOS and on its Maintenance screen as
out of service.
"""

from __future__ import annotations

import pytest
from console_terminal import Terminal
from operations_rig import Appliance

pytestmark = pytest.mark.integration


def test_loopback_answers_the_new_state(appliance: Appliance) -> None:
    appliance.span_up()
    looped = appliance.ctl_json("spans", "loopback", "e1a", "local")
    assert looped["loopback"] == "local" and "loopback" in looped["alarms"]
    assert looped["state"] == "alarm"
    said = appliance.ctl("spans", "loopback", "e1a", "off").stdout
    assert "alarms none" in said, said


def test_maintenance_screen_lists_a_busied_out_channel(appliance: Appliance,
                                                       console: Terminal) -> None:
    appliance.span_up()
    appliance.ctl("spans", "busy-out", "e1a", "5")
    console.wait_for("SPANS", timeout=15)
    console.keys("s")  # the engineer picks the span on the Span screen...
    console.wait_for("05 OOS", timeout=15)  # out of service, by us
    console.keys("m")  # ...and goes to Maintenance, which lists its channels
    screen = console.wait_for("channels out of service", timeout=15)
    assert "e1a channels out of service: 5 (by us)" in screen
    assert "Traceback" not in console.errors()
