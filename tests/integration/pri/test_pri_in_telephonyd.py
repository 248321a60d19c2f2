"""appliance-telephonyd runs the configured spans against the E1 simulator process.

The daemon opens the span from its configured address, brings the D-channel
up, shows span and channel states on its control socket, busies out a
channel on request, and, when the simulator goes away and comes back, raises
the alarm and puts the span back in service by itself.
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

from appliance.runtime.control import ControlClient, ControlError, call_once

pytestmark = pytest.mark.integration

PYTHON = sys.executable


def start_e1(sim_dir: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [PYTHON, "-m", "hil.sim.e1", "--name", "e1a", "--run-dir", str(sim_dir)]
    )
    wait_for_socket(sim_dir / "e1a.ctl", process)
    return process


def until(predicate: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


def call(sock: Path, method: str, **params: Any) -> Any:
    return asyncio.run(call_once(str(sock), method, **params))


def test_span_in_service_busy_out_and_recovery_after_the_far_end_vanishes(
    tmp_path: Path, start_daemon: Any
) -> None:
    sim_dir = tmp_path / "sim"
    e1 = start_e1(sim_dir)
    config = minimal_config(
        tmp_path, f'\n[[rig.spans]]\nname = "e1a"\naddress = "sim:{sim_dir}/e1a.sock"\n'
    )
    daemon = start_daemon("telephonyd", config)
    sock = tmp_path / "run" / "telephonyd.sock"
    wait_for_socket(sock, daemon.process)
    try:
        span = until(
            lambda: next(
                (s for s in call(sock, "spans.list")["spans"] if s["state"] == "up"), None
            )
        )
        assert (span["name"], span["dchannel"], span["idle"]) == ("e1a", "up", 30)

        blocked = call(sock, "spans.busy_out", span="e1a", channel=5, on=True)
        assert blocked["state"] == "blocked-local"
        shown = call(sock, "spans.show", span="e1a")
        assert [c["state"] for c in shown["channels"] if c["channel"] == 5] == ["blocked-local"]
        with pytest.raises(ControlError, match="B-channel number"):
            call(sock, "spans.busy_out", span="e1a", channel=16, on=True)
        with pytest.raises(ControlError, match="no span 'e9'"):
            call(sock, "spans.show", span="e9")

        async def watch_alarm() -> dict[str, Any]:
            async with ControlClient(str(sock), timeout=20) as client:
                async for event in client.events("span.alarm"):
                    if event["data"]["alarm"]:
                        return event
            raise AssertionError("event stream ended")

        async def kill_and_watch() -> dict[str, Any]:
            watcher = asyncio.ensure_future(watch_alarm())
            await asyncio.sleep(0.3)
            e1.terminate()
            return await asyncio.wait_for(watcher, 20)

        alarm = asyncio.run(kill_and_watch())
        assert alarm["data"]["span"] == "e1a"
        assert e1.wait(10) == 0
        assert call(sock, "spans.list")["spans"][0]["state"] in ("down", "alarm")

        restarted = start_e1(sim_dir)
        try:
            until(lambda: call(sock, "spans.list")["spans"][0]["state"] == "up", timeout=30)
        finally:
            restarted.terminate()
            restarted.wait(10)
        assert daemon.process.poll() is None
    finally:
        if e1.poll() is None:
            e1.terminate()
            e1.wait(10)
