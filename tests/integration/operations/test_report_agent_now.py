"""Item 4 of issue 12: ``report agent`` over a range that ends in the future stops at now.

Ada logs in and takes a customer's call; while she still talks, the supervisor
asks for her figures from an hour ago to tomorrow. Her login time is the time
since her login (not the hours up to tomorrow), the call in progress counts as
talk, and her occupancy is a real share, not the 0 % of a day mostly to come.
"""

from __future__ import annotations

import time

import pytest
from acd_traffic import talking_to
from operations_rig import Appliance

pytestmark = pytest.mark.integration


def test_agent_report_to_tomorrow_counts_up_to_now(appliance: Appliance) -> None:
    appliance.span_up()
    before = time.time()
    appliance.ctl("agents", "login", "1001", "fxs1")
    talking_to(appliance, "1001", "13900000011", channel=5)
    time.sleep(2.0)

    report = appliance.ctl_json("report", "agent", "--from", str(before - 3600),
                                "--to", str(before + 86400), "--agent", "1001")
    elapsed = time.time() - before
    (ada,) = report["rows"]
    assert 2.0 <= ada["login_time"] <= elapsed
    assert 0 < ada["inbound_time"] < ada["login_time"]  # the call in progress is talk so far
    assert 0 < ada["occupancy"] < 1
    table = appliance.ctl("report", "agent", "--from", str(before - 3600),
                          "--to", str(before + 86400)).stdout
    assert "1001" in table and "0.0%" not in table
