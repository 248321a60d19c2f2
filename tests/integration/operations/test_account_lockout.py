"""Issue 13 "account lockout": five wrong passwords at the serial console lock the account,
even the right password is then refused, and ``appliancectl users unlock`` (audited) lets the
engineer in again, on the running appliance."""

from __future__ import annotations

import pytest
from console_terminal import console_on
from operations_rig import Appliance

pytestmark = pytest.mark.integration

PASSWORD = "engineer's password"


def test_five_wrong_passwords_lock_the_console_login_until_an_admin_unlocks(
        appliance: Appliance) -> None:
    appliance.ctl("users", "add", "eve", "--role", "engineer", "--password-stdin",
                  input=f"{PASSWORD}\n")
    term = console_on(appliance.root, appliance.config)
    try:
        term.wait_for("Appliance console - log in")
        term.keys("eve", literal=True)
        term.keys("Enter")
        for attempt in range(4):
            term.keys(f"guess {attempt}", literal=True)
            term.keys("Enter")
            term.wait_for("wrong user name or password", timeout=10)
        term.keys("guess 4", literal=True)
        term.keys("Enter")
        term.wait_for("is now locked for", timeout=10)
        term.keys(PASSWORD, literal=True)
        term.keys("Enter")
        term.wait_for("is locked for 15 more", timeout=10)  # the right password, refused
        assert "LOCKED until" in appliance.ctl("users", "list").stdout

        unlocked = appliance.ctl("users", "unlock", "eve")
        assert "eve: unlocked" in unlocked.stdout
        term.keys(PASSWORD, literal=True)
        term.keys("Enter")
        term.wait_for(" eve ", timeout=10)  # logged in: the header names the user
        assert "SPANS" in term.screen() or "Spans" in term.screen()
    finally:
        term.close()
    outcomes = [(r["action"], r["outcome"].split(":")[0]) for r in appliance.rows(
        "SELECT action, outcome FROM audit_log WHERE target = 'eve' ORDER BY id")]
    assert outcomes.count(("console.login", "refused")) == 6
    assert ("user.unlock", "ok") in outcomes
    assert outcomes[-1] == ("console.login", "ok")
