"""The real daemons on the mains/UPS/board simulator: power failure and a dead telephonyd.

appliance-powerd reads the simulated UPS (Megatec on a pty), the board's
INA219 and relays (I2C chips) and the watchdog; it polls the real
appliance-telephonyd over its control socket.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import minimal_config, wait_for_socket

from appliance.runtime.control import call_once

pytestmark = pytest.mark.integration


def call(sock: Path, method: str, **params: Any) -> Any:
    return asyncio.run(call_once(str(sock), method, **params))


def until(predicate: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


@pytest.fixture
def rig(tmp_path: Path, start_daemon: Any) -> Any:
    sim = tmp_path / "sim"
    mains = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hil.sim.mains",
            "--name",
            "power",
            "--run-dir",
            str(sim),
            "--options",
            '{"watchdog_timeout": 3.0}',
        ]
    )
    wait_for_socket(sim / "power.ctl", mains)
    config = minimal_config(
        tmp_path,
        f'\n[rig]\nups = "sim:{sim}/power.ups.tty"\nboard = "sim:{sim}/power.board.sock"\n'
        f'watchdog = "sim:{sim}/power.watchdog.sock"\n'
        "\n[power]\nups_poll_interval = 0.2\ntelephony_check_interval = 0.2\ntelephony_timeout = 1.0\n"
        'watchdog_interval = 0.25\nshutdown_command = ["true"]\n',
    )
    telephonyd = start_daemon("telephonyd", config)
    wait_for_socket(tmp_path / "run" / "telephonyd.sock", telephonyd.process)
    powerd = start_daemon("powerd", config)
    wait_for_socket(tmp_path / "run" / "powerd.sock", powerd.process)
    yield tmp_path, telephonyd, powerd
    mains.terminate()
    mains.wait(10)


def lifeline(root: Path) -> dict[str, Any]:
    status: dict[str, Any] = call(root / "run" / "powerd.sock", "power.status")
    return status["lifeline"]


def test_mains_failure_engages_the_lifeline_and_is_recorded(rig: Any) -> None:
    root, _, _ = rig
    until(lambda: call(root / "run" / "powerd.sock", "power.status")["telephony_healthy"])
    until(lambda: not lifeline(root)["engaged"])
    cut = time.monotonic()
    call(root / "sim" / "power.ctl", "mains", on=False)
    until(lambda: lifeline(root)["engaged"], timeout=5)
    assert time.monotonic() - cut < 1.0  # the INA219 sees the loss before the UPS polls
    assert all(not r["energised"] for r in lifeline(root)["relays"])
    assert call(root / "sim" / "power.ctl", "status")["relays_energised"] == [False] * 4
    history = call(root / "run" / "powerd.sock", "power.history", limit=20)["events"]
    assert "on_battery" in [e["state"] for e in history]
    rows = (
        sqlite3.connect(root / "state" / "appliance.db")
        .execute("SELECT state FROM power_events WHERE state = 'on_battery'")
        .fetchall()
    )
    assert rows


def test_killing_telephonyd_engages_the_lifeline_at_the_next_check(rig: Any) -> None:
    root, telephonyd, _ = rig
    until(lambda: call(root / "run" / "powerd.sock", "power.status")["telephony_healthy"])
    until(lambda: not lifeline(root)["engaged"])
    telephonyd.process.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    until(lambda: lifeline(root)["engaged"], timeout=5)
    # a dead daemon refuses its socket: one check (0.2 s) + slack, not the 1 s timeout
    assert time.monotonic() - killed < 0.2 + 0.5
    assert lifeline(root)["reasons"] == ["telephony-down"]


def test_a_hung_telephonyd_engages_the_lifeline_within_the_timeout(rig: Any) -> None:
    root, telephonyd, _ = rig
    until(lambda: call(root / "run" / "powerd.sock", "power.status")["telephony_healthy"])
    until(lambda: not lifeline(root)["engaged"])
    telephonyd.process.send_signal(signal.SIGSTOP)  # alive, socket open, never answers
    try:
        stopped = time.monotonic()
        until(lambda: lifeline(root)["engaged"], timeout=5)
        assert 1.0 - 0.2 <= time.monotonic() - stopped < 1.0 + 0.2 + 0.5
        assert lifeline(root)["reasons"] == ["telephony-unhealthy"]
    finally:
        telephonyd.process.send_signal(signal.SIGCONT)
    until(lambda: not lifeline(root)["engaged"], timeout=5)


def test_killing_powerd_drops_the_relays_through_the_watchdog(rig: Any) -> None:
    root, _, powerd = rig
    until(lambda: not lifeline(root)["engaged"])
    assert call(root / "sim" / "power.ctl", "status")["relays_energised"] == [True] * 4
    powerd.process.send_signal(signal.SIGKILL)
    status = until(
        lambda: (s := call(root / "sim" / "power.ctl", "status"))["watchdog"]["fired"] and s,
        timeout=6,
    )
    assert status["relays_energised"] == [False] * 4


def test_low_battery_runs_the_orderly_shutdown_through_the_real_telephonyd(tmp_path: Path, start_daemon: Any) -> None:
    sim = tmp_path / "sim"
    mains = subprocess.Popen([sys.executable, "-m", "hil.sim.mains", "--name", "power", "--run-dir", str(sim)])
    wait_for_socket(sim / "power.ctl", mains)
    marker = tmp_path / "powered-off"
    config = minimal_config(
        tmp_path,
        f'\n[rig]\nups = "sim:{sim}/power.ups.tty"\nboard = "sim:{sim}/power.board.sock"\n'
        f'watchdog = "sim:{sim}/power.watchdog.sock"\n'
        # any time on battery counts as low here, so the whole sequence runs at once
        '\n[power]\nups_poll_interval = 0.2\ntelephony_check_interval = 0.2\nlow_runtime = 86400\n'
        f'low_charge = 100\nprepare_deadline = 10\nshutdown_command = ["touch", "{marker}"]\n',
    )
    try:
        telephonyd = start_daemon("telephonyd", config)
        wait_for_socket(tmp_path / "run" / "telephonyd.sock", telephonyd.process)
        powerd = start_daemon("powerd", config)
        wait_for_socket(tmp_path / "run" / "powerd.sock", powerd.process)
        until(lambda: call(tmp_path / "run" / "powerd.sock", "power.status")["telephony_healthy"])
        call(sim / "power.ctl", "mains", on=False)
        until(marker.exists, timeout=15)
        steps = [s["step"] for s in call(tmp_path / "run" / "powerd.sock", "power.status")["shutdown_steps"]]
        assert steps[:4] == ["start", "telephony-prepare", "telephony-ack", "command"]
        health = call(tmp_path / "run" / "telephonyd.sock", "telephony.health")
        assert health["draining"] is True  # new calls are refused until power returns or ends
        assert lifeline(tmp_path)["engaged"]
    finally:
        mains.terminate()
        mains.wait(10)
