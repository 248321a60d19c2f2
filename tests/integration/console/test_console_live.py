"""appliance-console on the real daemons and simulators (not fixtures): 80x24, vt100, C locale.

A caller is up on the E1 span, ringing an agent's phone; the field engineer
sees the span, the call and the power state, hangs the call up from the
console (the E1 caller is released), and the change is in the audit log.
Bytes per second while a call is up are measured against 115200 baud.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import wait_for_socket
from console_terminal import Terminal
from test_console_tmux import BAUD_115200, BIN

from appliance.demo.__main__ import write_config
from appliance.runtime.control import call_once
from appliance.store import open_database

pytestmark = pytest.mark.integration

SIMULATORS = [("e1a", "e1"), ("phone1", "phone"), ("phone2", "phone"), ("power", "mains")]


def call(sock: Path, method: str, **params: Any) -> Any:
    return asyncio.run(call_once(str(sock), method, **params))


def until(predicate: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


def test_console_on_the_live_daemons(tmp_path: Path, start_daemon: Any) -> None:
    sim = tmp_path / "sim"
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", f"hil.sim.{device}", "--name", name, "--run-dir", str(sim)]
        )
        for name, device in SIMULATORS
    ]
    terminal: Terminal | None = None
    try:
        for (name, _), process in zip(SIMULATORS, processes, strict=True):
            wait_for_socket(sim / f"{name}.ctl", process)
        text = Path(write_config(str(tmp_path), "unused")).read_text()
        for port in ("fxo1", "fxo2"):  # no carrier-line simulators in this rig
            start = text.index(f'[[rig.ports]]\nname = "{port}"')
            text = text[:start] + text[text.index("[[rig.ports]]", start + 1) :]
        config = tmp_path / "appliance.toml"
        config.write_text(text)
        for name in ("powerd", "telephonyd"):
            wait_for_socket(tmp_path / "run" / f"{name}.sock", start_daemon(name, config).process)
        sock = tmp_path / "run" / "telephonyd.sock"
        until(lambda: call(sock, "spans.list")["spans"][0]["state"] == "up")
        call(sock, "agents.login", agent="1001", device="fxs1")
        placed = call(sim / "e1a.ctl", "call", channel=3, called="4000", calling="13800138000")[
            "call"
        ]
        until(lambda: call(sock, "calls.list")["calls"])

        terminal = Terminal(
            tmp_path,
            f"{BIN}/appliance-console --config {config} --interval 0.5 --timeout 1",
            {"TERM": "vt100", "LC_ALL": "C", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        )
        screen = terminal.wait_for("e1a    UP", timeout=10)
        assert "CALLS UP 1" in screen and "mains ON" in screen
        assert all(len(line) <= 80 for line in screen.splitlines())
        before, began = terminal.bytes_written(), time.monotonic()
        time.sleep(4)
        rate = (terminal.bytes_written() - before) / (time.monotonic() - began)
        print(
            f"console on live daemons, 2 polls/s, one call up: {rate:.0f} B/s "
            f"({100 * rate / BAUD_115200:.1f} % of 115200 baud)"
        )
        assert rate < BAUD_115200 / 4

        terminal.keys("w")
        terminal.wait_for("relay pair")
        terminal.keys("c")
        terminal.wait_for("13800138000")
        terminal.keys("h")
        terminal.wait_for("Hang up call")
        terminal.keys("y")
        until(lambda: not call(sock, "calls.list")["calls"])
        until(
            lambda: call(sim / "e1a.ctl", "status")["calls"][str(placed)]["state"].startswith(
                "cleared"
            )
        )
        audit = [
            (r["origin"], r["action"], r["outcome"])
            for r in open_database(str(tmp_path / "state" / "appliance.db")).query(
                "SELECT * FROM audit_log ORDER BY id"
            )
        ]
        assert ("console", "call.hangup", "ok") in audit
    finally:
        if terminal is not None:
            terminal.close()
        for process in processes:
            process.terminate()
            process.wait(10)
