"""appliance-telephonyd runs the configured analog ports against phone simulator processes.

A phone on one FXS port dials the other's extension through the daemon: the
caller hears ringback, the called phone rings with the caller's number, and
the ports' states show on the control socket and its event stream.
"""

from __future__ import annotations

import asyncio
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
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


PORTS = """
[[rig.ports]]
name = "fxs1"
kind = "fxs"
address = "sim:{sim}/phone1.sock"
extension = "201"

[[rig.ports]]
name = "fxs2"
kind = "fxs"
address = "sim:{sim}/phone2.sock"
extension = "202"
"""


def test_phone_dials_another_phone_through_the_daemon(tmp_path: Path, start_daemon: Any) -> None:
    sim = tmp_path / "sim"
    phones = [
        subprocess.Popen(
            [sys.executable, "-m", "hil.sim.phone", "--name", name, "--run-dir", str(sim)]
        )
        for name in ("phone1", "phone2")
    ]
    try:
        for name, process in zip(("phone1", "phone2"), phones, strict=True):
            wait_for_socket(sim / f"{name}.ctl", process)
        config = minimal_config(tmp_path, PORTS.format(sim=sim))
        daemon = start_daemon("telephonyd", config)
        sock = tmp_path / "run" / "telephonyd.sock"
        wait_for_socket(sock, daemon.process)
        assert {p["name"]: p["state"] for p in call(sock, "ports.list")["ports"]} == {
            "fxs1": "idle",
            "fxs2": "idle",
        }

        call(sim / "phone1.ctl", "lift")
        until(lambda: "dial" in call(sim / "phone1.ctl", "status")["tones"])
        call(sim / "phone1.ctl", "dial", digits="202")
        until(lambda: "ringback" in call(sim / "phone1.ctl", "status")["tones"])
        # CN practice: caller ID is sent in the pause after the first ring
        called = until(lambda: (s := call(sim / "phone2.ctl", "status"))["caller_id"] and s)
        assert called["rings"] >= 1
        assert called["caller_id"]["number"] == "201"
        states = {p["name"]: p["state"] for p in call(sock, "ports.list")["ports"]}
        assert states == {"fxs1": "calling", "fxs2": "ringing"}
        assert call(sock, "ports.show", port="fxs2")["hook"] == "on"
        assert daemon.process.poll() is None
    finally:
        for process in phones:
            process.terminate()
            process.wait(10)


def test_busied_out_phone_is_not_rung_and_returns_to_service(tmp_path: Path, start_daemon: Any) -> None:
    sim = tmp_path / "sim"
    phones = [
        subprocess.Popen([sys.executable, "-m", "hil.sim.phone", "--name", name, "--run-dir", str(sim)])
        for name in ("phone1", "phone2")
    ]
    try:
        for name, process in zip(("phone1", "phone2"), phones, strict=True):
            wait_for_socket(sim / f"{name}.ctl", process)
        config = minimal_config(tmp_path, PORTS.format(sim=sim))
        daemon = start_daemon("telephonyd", config)
        sock = tmp_path / "run" / "telephonyd.sock"
        wait_for_socket(sock, daemon.process)
        ctl = [str(Path(sys.executable).parent / "appliancectl"), "--config", str(config)]
        out = subprocess.run([*ctl, "ports", "busy-out", "fxs2"], capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        assert call(sock, "ports.show", port="fxs2")["state"] == "blocked"
        call(sim / "phone1.ctl", "lift")
        until(lambda: "dial" in call(sim / "phone1.ctl", "status")["tones"])
        call(sim / "phone1.ctl", "dial", digits="202")
        time.sleep(2)
        assert call(sim / "phone2.ctl", "status")["rings"] == 0
        call(sim / "phone1.ctl", "hangup")
        back = subprocess.run([*ctl, "ports", "busy-out", "fxs2", "--off"], capture_output=True, text=True, timeout=30)
        assert back.returncode == 0, back.stderr
        until(lambda: call(sock, "ports.show", port="fxs2")["state"] == "idle")
    finally:
        for process in phones:
            process.terminate()
            process.wait(10)
