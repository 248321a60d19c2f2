"""Issue 13 item 3 on the running daemons: local Unix users reach the control sockets (they are
in the socket's group) but act only as far as their appliance account allows, and every
attempt is audited under the identity the kernel gives (SO_PEERCRED), never ``$USER``.

* ``apx-viewer`` has an appliance account with the viewer role: ``status`` and ``calls list``
  work (the caller's number masked: no ``customer.read``); hanging up a call, busying out a
  span, testing the lifeline or applying a configuration exits 4, naming the permission.
* ``apx-stranger`` has no account: even ``status`` is refused.
* root (the admin at the shell) does what the viewer could not.

The users are real Unix accounts (``useradd``) and the CLI really runs as them
(``runuser``, local_users.py).
"""

from __future__ import annotations

import grp
import stat

import pytest
from local_users import GROUP, STRANGER, VIEWER, ctl_as, shared_appliance, traversable, unix_users
from operations_rig import Appliance, until

pytestmark = pytest.mark.integration
__all__ = ["shared_appliance", "traversable", "unix_users"]  # fixtures this module uses


def test_a_viewer_and_a_stranger_are_refused_every_change_and_each_attempt_is_audited(
        shared_appliance: Appliance, unix_users: dict[str, int]) -> None:
    box = shared_appliance
    sockets = [box.root / "run" / f"{d}.sock" for d in ("telephonyd", "powerd")]
    for sock in sockets:  # reachable by the group, not by everyone
        assert stat.S_IMODE(sock.stat().st_mode) == 0o660
        assert sock.stat().st_gid == grp.getgrnam(GROUP).gr_gid
    box.ctl("users", "add", VIEWER, "--role", "viewer", "--password-stdin",
            input="viewer-password-1\n")
    box.span_up()
    box.e1_call(calling="13800138000")
    call_id = box.live_call("13800138000")["call_id"]

    status = ctl_as(box, VIEWER, "status")
    assert status.returncode == 0, status.stderr
    listed = ctl_as(box, VIEWER, "calls", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert "13800138000" not in listed.stdout and "***" in listed.stdout

    def refused(user: str, args: tuple[str, ...], text: str) -> None:
        done = ctl_as(box, user, *args)
        assert done.returncode == 4, (user, args, done.stdout, done.stderr)
        assert text in done.stderr, (user, args, done.stderr)

    # the call first, while it is surely up: neither may clear it, the admin may
    refused(VIEWER, ("calls", "hangup", call_id), "needs permission 'calls.control'")
    refused(STRANGER, ("calls", "hangup", call_id),
            f"Unix user '{STRANGER}' has no appliance account")
    assert box.live_call("13800138000")["call_id"] == call_id  # still up
    box.ctl("calls", "hangup", call_id)
    until(lambda: not box.ctl_json("calls", "list")["calls"], what="the call hung up by root")

    for args, needs in {
        ("spans", "busy-out", "e1a", "1"): "spans.maintain",
        ("power", "test-lifeline", "--seconds", "1", "--yes"): "power.test",
        ("config", "apply", str(box.config)): "config.apply",
    }.items():
        refused(VIEWER, args, f"needs permission '{needs}'")
        refused(VIEWER, args, f"{VIEWER} (viewer)")
    refused(STRANGER, ("status",), f"Unix user '{STRANGER}' has no appliance account")

    def audited() -> list[dict[str, object]]:
        return box.rows("SELECT actor, origin, action, target, outcome FROM audit_log "
                        "WHERE origin LIKE '% socket:uid=%' ORDER BY id")

    rows = until(lambda: (r := audited()) and any(x["outcome"] == "ok" for x in r) and r,
                 what="the daemons' audit rows")
    viewer_uid, stranger_uid = unix_users[VIEWER], unix_users[STRANGER]
    assert {"actor": VIEWER, "origin": f"telephonyd socket:uid={viewer_uid}",
            "action": "calls.hangup", "target": call_id,
            "outcome": "forbidden: needs calls.control"} in [
        {**r, "origin": str(r["origin"]).rsplit(":pid=", 1)[0]} for r in rows]
    by = {(r["actor"], r["action"], str(r["outcome"]).split(":")[0]) for r in rows}
    assert {(VIEWER, "spans.busy_out", "forbidden"), (VIEWER, "power.test_lifeline", "forbidden"),
            (VIEWER, "config.apply", "forbidden"), (STRANGER, "status", "forbidden"),
            (STRANGER, "calls.hangup", "forbidden"), ("root", "calls.hangup", "ok")} <= by
    assert any(str(r["origin"]).startswith(f"powerd socket:uid={viewer_uid}:") for r in rows)
    assert any(str(r["origin"]).startswith(f"telephonyd socket:uid={stranger_uid}:")
               for r in rows)
    assert not any(r["action"] in ("status", "calls.list") and r["actor"] == VIEWER
                   for r in rows)  # what a viewer may read is not audited
    assert not any(r["actor"] in (VIEWER, STRANGER) and r["outcome"] == "ok" for r in rows)
    verify = box.ctl("audit", "verify")
    assert verify.returncode == 0, verify.stdout
