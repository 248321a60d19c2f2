"""Item 7 of issue 12: an agent logs in only on a phone the box has and nobody else holds.

``agents login`` on a device that does not exist, or on Ada's phone (by its port
name or by its extension 201) while she holds it, is refused with the reason,
exit code 4 and an audit entry marked refused; once Ada logs out, Grace may take
that phone.
"""

from __future__ import annotations

import pytest
from acd_traffic import agent
from operations_rig import Appliance

pytestmark = pytest.mark.integration


def test_login_on_a_missing_or_held_phone_is_refused_and_audited(appliance: Appliance) -> None:
    missing = appliance.ctl("agents", "login", "1002", "fxs9", check=False)
    assert missing.returncode == 4
    assert "no device 'fxs9'" in missing.stderr
    assert agent(appliance, "1002")["state"] == "logged_out"

    appliance.ctl("agents", "login", "1001", "fxs1")
    for device in ("fxs1", "201"):
        held = appliance.ctl("agents", "login", "1002", device, check=False)
        assert held.returncode == 4, held.stdout
        assert f"device {device} is held by agent 1001 (Ada)" in held.stderr
    assert agent(appliance, "1002")["state"] == "logged_out"
    logins = [r["event"] for r in appliance.rows(
        "SELECT event FROM queue_log WHERE event = 'AGENTLOGIN' AND agent = '1002'")]
    assert logins == []

    appliance.ctl("agents", "logout", "1001")
    appliance.ctl("agents", "login", "1002", "201")
    assert agent(appliance, "1002")["state"] == "idle"
    audit = appliance.rows(
        "SELECT outcome FROM audit_log WHERE action = 'agent.login' ORDER BY id")
    outcomes = [row["outcome"] for row in audit]
    assert outcomes[0].startswith("refused: ") and "fxs9" in outcomes[0]
    assert outcomes[1] == "ok"  # Ada
    assert all(o.startswith("refused: ") and "held by agent 1001" in o for o in outcomes[2:4])
    assert outcomes[4:] == ["ok"]  # Grace, once the phone is free
