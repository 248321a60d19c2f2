"""The unit files pass systemd-analyze verify and keep their promises."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

UNITS = Path(__file__).resolve().parents[3] / "systemd"


def test_units_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing (Debian package systemd, deps/apt/foundation.txt)"
    bin_dir = Path(sys.executable).parent
    for unit in UNITS.iterdir():
        # point ExecStart at this installation's entry points: verify checks they exist
        (tmp_path / unit.name).write_text(unit.read_text().replace("/usr/bin/", f"{bin_dir}/"))
    result = subprocess.run(
        [analyze, "verify", *sorted(str(p) for p in tmp_path.iterdir())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "appliance" not in result.stderr, result.stderr


@pytest.mark.parametrize("name", ["appliance-telephonyd.service", "appliance-powerd.service"])
def test_daemon_units_are_notify_watchdogged_and_hardened(name: str) -> None:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(UNITS / name)
    service = parser["Service"]
    assert service["Type"] == "notify"
    assert int(service["WatchdogSec"]) > 0
    assert service["Restart"] == "on-failure"
    assert service["ProtectSystem"] == "strict"
    assert service["NoNewPrivileges"] == "yes"
    assert service["DevicePolicy"] == "closed"
    assert service["StateDirectory"] == service["RuntimeDirectory"] == "appliance"
    assert "CapabilityBoundingSet" in service
