"""The console's requests act as the account logged in there (issue 13 "authorisation and
audit", SEC-2): the daemons authorise and audit them as that account, not as the console
process's Unix user (root on the box). Before, once logged in, the console's checks were
the only ones: a disabled account kept acting until the console was left, and the daemon's
audit named the Unix user.

Supervisor sam pauses agent 1001 from the Queues screen; an admin disables sam; sam's next
action is refused by telephonyd itself.
"""

from __future__ import annotations

import pytest
from acd_traffic import agent
from console_terminal import console_on
from operations_rig import Appliance, until

pytestmark = pytest.mark.integration

PASSWORD = "supervisor's password"


def test_the_daemon_enforces_and_audits_the_console_login(appliance: Appliance) -> None:
    appliance.ctl("users", "add", "sam", "--role", "supervisor", "--password-stdin",
                  input=f"{PASSWORD}\n")
    appliance.ctl("agents", "login", "1001", "fxs1")
    term = console_on(appliance.root, appliance.config)
    try:
        term.wait_for("Appliance console - log in")
        term.keys("sam", literal=True)
        term.keys("Enter")
        term.keys(PASSWORD, literal=True)
        term.keys("Enter")
        term.wait_for(" sam ", timeout=10)
        term.keys("q")
        term.wait_for("1001", timeout=10)
        term.keys("a")
        term.wait_for("Pause reason:")
        term.keys("Enter")
        until(lambda: agent(appliance, "1001")["state"] == "paused", what="1001 paused")
        (row,) = appliance.rows("SELECT actor, origin, outcome FROM audit_log "
                                "WHERE action = 'agents.pause'")
        assert row["actor"] == "sam" and row["origin"].startswith("telephonyd socket:uid="), row

        appliance.ctl("users", "disable", "sam")
        term.keys("u")  # the console still believes sam may: the daemon says no
        term.wait_for("no active appliance account 'sam'", timeout=10)
        assert agent(appliance, "1001")["state"] == "paused"
    finally:
        term.close()
