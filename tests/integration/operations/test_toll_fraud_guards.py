"""SEC-4's toll-fraud guards on the running daemons: class of service for the numbers
people choose, whatever the phone or the technology.

By default a phone may call national numbers only (``[calls] default_class``):
click-to-dial to an international number is refused before the agent's phone rings,
an agent's transfer of a customer to one is refused and the customer stays with the
agent, and a phone that keys 9 + an international number is released with Q.850 52
(outgoing calls barred) without any trunk seized. The admin raises Ada's phone to
``international`` with ``config apply`` and the same click-to-dial goes out on the span.
"""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
from acd_traffic import ada_with_a_customer, port_state, rings
from operations_rig import Appliance, until

from appliance.config.render import render_toml

pytestmark = pytest.mark.integration

ABROAD = "0044207946000"


def setups_to(box: Appliance, number: str) -> list[dict[str, Any]]:
    return [c for c in box.sim("e1a", "status")["from_appliance"] if c["called"] == number]


def test_click_to_dial_abroad_is_refused_until_the_admin_allows_the_phone(
        appliance: Appliance) -> None:
    box = appliance
    box.span_up()
    box.ctl("agents", "login", "1001", "fxs1")
    before = rings(box, "phone1")
    refused = box.ctl("calls", "originate", "1001", ABROAD, check=False)
    assert refused.returncode != 0
    assert f"{ABROAD} is an international number and fxs1 may call national numbers at most" \
        in refused.stderr, refused.stderr
    assert rings(box, "phone1") == before and not setups_to(box, ABROAD)

    tree = tomllib.loads(box.config.read_text())
    tree.setdefault("calls", {})["classes"] = {"201": "international"}  # Ada's extension
    box.config.write_text(render_toml(tree))
    done = box.ctl("config", "apply", str(box.config))
    assert "calls.classes" in done.stdout, done.stdout
    placed = box.ctl_json("calls", "originate", "1001", ABROAD)
    until(lambda: [c for c in setups_to(box, ABROAD) if c["state"] == "connected"], timeout=30,
          what="the call abroad answered on e1a")
    box.ctl("calls", "hangup", placed["call_id"])


def test_an_agent_cannot_transfer_a_customer_abroad(appliance: Appliance) -> None:
    box = appliance
    _call, call_id = ada_with_a_customer(box, "13900000051", channel=4)
    refused = box.ctl("calls", "transfer", "1001", f"external:{ABROAD}", check=False)
    assert refused.returncode == 4 and "international number" in refused.stderr, refused.stderr
    row = box.live_call("13900000051")
    assert (row["call_id"], row["state"], row["agent"]) == (call_id, "talking", "1001")
    assert not setups_to(box, ABROAD)


def test_a_phone_keying_a_premium_number_is_released_with_cause_52(
        appliance: Appliance) -> None:
    box = appliance
    tree = tomllib.loads(box.config.read_text())
    tree.setdefault("calls", {})["premium_prefixes"] = ["0900"]
    box.config.write_text(render_toml(tree))
    box.ctl("config", "apply", str(box.config))
    box.span_up()
    box.sim("phone2", "lift")
    until(lambda: port_state(box, "fxs2") == "dialtone", what="dial tone on phone 2")
    box.sim("phone2", "dial", digits="909001234567")
    (record,) = until(lambda: box.rows("SELECT * FROM cdr WHERE callee = '09001234567'"),
                      timeout=20, what="the refused call's CDR")
    assert (record["disposition"], record["cause"], record["trunk"]) == ("FAILED", 52, ""), \
        record
    assert not setups_to(box, "09001234567")
    box.sim("phone2", "hangup")
