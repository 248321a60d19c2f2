"""``[power]`` changed with ``config apply`` takes effect in the running powerd (issue 12.3):
before, powerd kept its start-up thresholds until a restart.

A field engineer decides during a mains outage that the carrier lines must go
straight to the analog phones now, not only when the battery runs low.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from operations_rig import Appliance, until

from appliance.config.render import render_toml

pytestmark = pytest.mark.integration


def with_power(appliance: Appliance, name: str, **power: Any) -> Path:
    tree = tomllib.loads(appliance.config.read_text())
    tree.setdefault("power", {}).update(power)
    path = appliance.root / name
    path.write_text(render_toml(tree))
    return path


def power(appliance: Appliance) -> dict[str, Any]:
    return dict(appliance.ctl_json("power", "status"))


def powerd_line(stdout: str) -> str:
    return next(x for x in stdout.splitlines() if x.startswith("powerd:"))


def test_lifeline_policy_changed_during_an_outage_switches_the_lines_now(
    appliance: Appliance,
) -> None:
    until(lambda: not power(appliance)["lifeline"]["engaged"], what="lines on the appliance")
    late = with_power(appliance, "late.toml", lifeline_on="low_battery")
    done = appliance.ctl("config", "apply", str(late))
    assert powerd_line(done.stdout) == "powerd: applied power.lifeline_on"

    appliance.sim("power", "mains", on=False)
    until(lambda: power(appliance)["state"] == "on_battery", what="powerd on battery")
    assert not power(appliance)["lifeline"]["engaged"]  # calls stay on the appliance

    now = with_power(appliance, "now.toml", lifeline_on="on_battery")
    done = appliance.ctl("config", "apply", str(now))
    assert powerd_line(done.stdout) == "powerd: applied power.lifeline_on"
    lifeline = until(lambda: (s := power(appliance)["lifeline"])["engaged"] and s,
                     what="the lifeline engaged by the new policy")
    assert "power" in lifeline["reasons"]
    assert not any(appliance.sim("power", "status")["relays_energised"])  # lines to the phones

    appliance.sim("power", "mains", on=True)
    until(lambda: power(appliance)["state"] == "mains", what="mains back")
