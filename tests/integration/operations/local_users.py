"""Local Unix users for scenarios about who may use the control sockets (issue 13).

``unix_users`` creates two real accounts in a group of their own (``useradd``; CI runs as
root), ``shared_appliance`` starts the appliance with its sockets given to that group, and
``ctl_as`` runs ``appliancectl`` as one of them (``runuser``), exactly as that user at a
shell would.
"""

from __future__ import annotations

import os
import pwd
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from operations_rig import BIN, Appliance, running

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
    def share_sockets(box: Appliance) -> None:
        text = box.config.read_text(encoding="utf-8")
        assert "[paths]\n" in text
        box.config.write_text(
            text.replace("[paths]\n", f'[paths]\nsocket_group = "{GROUP}"\n', 1),
            encoding="utf-8")
        box.config.chmod(0o644)

    with running(tmp_path, share_sockets) as box:
        yield box


def ctl_as(box: Appliance, user: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``appliancectl ARGS`` typed by Unix user ``user`` at a shell."""
    return subprocess.run(
        ["runuser", "-u", user, "--", "env", f"APPLIANCE_CONFIG={box.config}", "HOME=/tmp",
         str(BIN / "appliancectl"), *args],
        capture_output=True, text=True, timeout=30,
    )
