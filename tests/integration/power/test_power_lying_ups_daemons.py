"""The real appliance-powerd with a Megatec UPS (hil/sim/ups.py) that answers garbage
once mains is cut (issue 13 item 6): the orderly shutdown still starts within
``[power] max_on_battery``, and the power history says why."""

from __future__ import annotations

import asyncio
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

LIMIT = 4.0  # max_on_battery; the simulated battery would last many minutes


def call(sock: Path, method: str, **params: Any) -> Any:
    return asyncio.run(call_once(str(sock), method, **params))


def until(predicate: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"condition not reached within {timeout} s")


def test_a_ups_answering_garbage_after_the_cut_still_shuts_down_within_the_limit(
    tmp_path: Path, start_daemon: Any
) -> None:
    sim = tmp_path / "sim"
    mains = subprocess.Popen(
        [sys.executable, "-m", "hil.sim.mains", "--name", "power", "--run-dir", str(sim)]
    )
    wait_for_socket(sim / "power.ctl", mains)
    marker = tmp_path / "powered-off"
    config = minimal_config(
        tmp_path,
        f'\n[rig]\nups = "sim:{sim}/power.ups.tty"\nboard = "sim:{sim}/power.board.sock"\n'
        f'watchdog = "sim:{sim}/power.watchdog.sock"\n'
        "\n[power]\nups_poll_interval = 0.2\nups_stale_after = 1.0\n"
        f"telephony_check_interval = 0.2\nmax_on_battery = {LIMIT}\nprepare_deadline = 10\n"
        f'shutdown_command = ["touch", "{marker}"]\n',
    )
    powerd_sock = tmp_path / "run" / "powerd.sock"
    try:
        telephonyd = start_daemon("telephonyd", config)
        wait_for_socket(tmp_path / "run" / "telephonyd.sock", telephonyd.process)
        powerd = start_daemon("powerd", config)
        wait_for_socket(powerd_sock, powerd.process)
        until(lambda: call(powerd_sock, "power.status")["telephony_healthy"], 15)
        call(sim / "power.ctl", "mains", on=False)
        cut = time.monotonic()
        until(lambda: call(powerd_sock, "power.status")["state"] == "on_battery", 5)
        call(sim / "power.ctl", "fault", ups_reply="garbage")
        until(lambda: (call(powerd_sock, "power.status")["ups"] or {}).get("stale"), 5)
        until(marker.exists, LIMIT + 6)
        took = time.monotonic() - cut
        assert took < LIMIT + 2.0, f"shutdown command ran {took:.1f} s after the cut"
        status = call(powerd_sock, "power.status")
        assert status["state"] == "shutdown"
        assert [s["step"] for s in status["shutdown_steps"]][:4] == [
            "start", "telephony-prepare", "telephony-ack", "command"]
        rows = sqlite3.connect(tmp_path / "state" / "appliance.db").execute(
            "SELECT state, reason FROM power_events WHERE state IN "
            "('on_battery', 'low_battery', 'shutdown') ORDER BY id").fetchall()
        assert rows == [("on_battery", "input-rail-lost"),
                        ("low_battery", "time-on-battery-limit"),
                        ("shutdown", "telephony-ready")]
    finally:
        mains.terminate()
        mains.wait(10)
