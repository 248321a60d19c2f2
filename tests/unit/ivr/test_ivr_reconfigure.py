"""A new [ivr] on the running call center (CallCenter.reconfigure, issue 12.3)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from ivrrig import ACD, IVR, make_ivr_center

from appliance.config.sections.acd import AcdSection
from appliance.config.sections.ivr import IvrSection
from appliance.ivr.engine import IvrError
from hil.traffic.center import section


def sections(acd: dict[str, Any], ivr: dict[str, Any]) -> tuple[AcdSection, IvrSection]:
    return section(AcdSection, acd, "acd"), section(IvrSection, ivr, "ivr")


def test_new_routes_take_the_next_call_while_a_call_in_a_flow_finishes_it_as_it_began() -> None:
    center = make_ivr_center()
    center.acd.login("1002")
    before = center.switch.inbound("0307777", "100", "span1")
    center.ivr.incoming(before)
    assert before.playing == "main-menu"

    ivr = copy.deepcopy(IVR)
    ivr["routes"] = [{"dnis": "1*", "flow": "hotline"}]  # 100 now goes straight to support
    support = next(n for n in ivr["flows"][0]["nodes"] if n["name"] == "support-menu")
    support["prompt"] = "support-menu-2027"
    center.reconfigure(*sections(ACD, ivr))

    center.clock.advance(1)
    before.press("2")  # the flow as it was when the call began
    assert before.playing == "support-menu"
    after = center.switch.inbound("0308888", "100", "span1")
    call = center.ivr.incoming(after)
    assert call.ivr_path == ["q"] and center.switch.ringing("dev1002")


def test_flows_naming_a_queue_the_new_acd_drops_change_neither_acd_nor_ivr() -> None:
    center = make_ivr_center()
    acd = copy.deepcopy(ACD)
    acd["queues"] = [q for q in acd["queues"] if q["name"] != "support"]
    with pytest.raises(IvrError, match="support"):
        center.reconfigure(*sections(acd, IVR))
    assert sorted(center.acd.queues) == ["sales", "support", "vip"]
    assert center.ivr.config.routes[0].flow == "hotline"
