"""The harness itself: both daemons up on the rig, a customer's call seen by the admin."""

from __future__ import annotations

import pytest
from operations_rig import Appliance, until

pytestmark = pytest.mark.integration


def test_a_customer_call_is_listed(appliance: Appliance) -> None:
    appliance.span_up()
    status = appliance.ctl("status")
    assert "telephonyd" in status.stdout
    appliance.e1_call(channel=2, calling="13900000001")
    row = appliance.live_call("13900000001")
    assert row["trunk"] == "e1a"
    until(lambda: appliance.rows("SELECT * FROM service_events WHERE event = 'ready'"))
