"""Issue 13 item 3 on the running daemons: local Unix users reach the control sockets (they are
in the socket's group) but act only as far as their appliance account allows, and every
attempt is audited under the identity the kernel gives (SO_PEERCRED), never ``$USER``.

* ``apx-viewer`` has an appliance account with the viewer role: ``status`` and ``calls list``
  work (the caller's number masked: no ``customer.read``); hanging up a call, busying out a
  span, testing the lifeline or applying a configuration exits 4, naming the permission.
* ``apx-stranger`` has no account: even ``status`` is refused.
* root (the admin at the shell) does what the viewer could not.

The users are real Unix accounts (``useradd``) and the CLI really runs as them
(``runuser``); CI runs as root.
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from operations_rig import BIN, Appliance, paused_rig, until

pytestmark = pytest.mark.integration

GROUP = "apx-ops"
VIEWER = "apx-viewer"
STRANGER = "apx-stranger"


def _run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True)


@pytest.fixture
def unix_users() -> Iterator[dict[str, int]]:
    assert os.geteuid() == 0, "this scenario creates Unix users: run the suite as root (CI does)"
    for user in (VIEWER, STRANGER):
        subprocess.run(["userdel", user], capture_output=True)  # left by an aborted run
    subprocess.run(["groupdel", GROUP], capture_output=True)
    _run("groupadd", GROUP)
    for user in (VIEWER, STRANGER):
        _run("useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", "-G", GROUP, user)
    try:
        yield {user: pwd.getpwnam(user).pw_uid for user in (VIEWER, STRANGER)}
    finally:
        for user in (VIEWER, STRANGER):
            subprocess.run(["userdel", user], capture_output=True)
        subprocess.run(["groupdel", GROUP], capture_output=True)


@pytest.fixture
def traversable(tmp_path: Path) -> Iterator[None]:
    """Let other users walk (not list) down to the rig and to this Python: o+x on the folders
    above them that lack it, put back afterwards."""
    changed: dict[Path, int] = {}
    for target in (tmp_path, Path(sys.executable).resolve(), Path(BIN), Path(__file__)):
        for folder in [target, *target.parents] if target.is_dir() else target.parents:
            mode = stat.S_IMODE(folder.stat().st_mode)
            if not mode & stat.S_IXOTH and folder not in changed:
                changed[folder] = mode
                folder.chmod(mode | stat.S_IXOTH)
    try:
        yield
    finally:
        for folder, mode in changed.items():
            folder.chmod(mode)


@pytest.fixture
def shared_appliance(tmp_path: Path, unix_users: dict[str, int],
                     traversable: None) -> Iterator[Appliance]:
    """The appliance with its sockets given to the group both test users are in."""
    rig = paused_rig(tmp_path)
    box = Appliance(tmp_path, rig)
    text = box.config.read_text(encoding="utf-8")
    assert "[paths]\n" in text
    box.config.write_text(text.replace("[paths]\n", f'[paths]\nsocket_group = "{GROUP}"\n', 1),
                          encoding="utf-8")
    box.config.chmod(0o644)
    try:
        box.start_rig(rig)
        box.start_daemon("powerd")
        box.start_daemon("telephonyd")
        yield box
    finally:
        box.stop()


def ctl_as(box: Appliance, user: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``appliancectl ARGS`` typed by Unix user ``user`` at a shell."""
    return subprocess.run(
        ["runuser", "-u", user, "--", "env", f"APPLIANCE_CONFIG={box.config}", "HOME=/tmp",
         str(BIN / "appliancectl"), *args],
        capture_output=True, text=True, timeout=30,
    )


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
