"""The E1 simulator as its own hil process: the appliance side opens it by address and a
scenario drives it through its control socket (calls, faults, status)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from appliance.config.sections.spans import PriTimers, SpanEntry
from appliance.runtime.clock import RealClock
from appliance.runtime.control import ControlError, call_once
from appliance.signalling.pri.span import PriSpan
from hil.sim.e1_rig import answer_all, short_tempdir

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]


async def _until(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


def test_e1_simulator_process_with_control_socket() -> None:
    with short_tempdir() as tmp:
        run_dir = Path(tmp)
        proc = subprocess.Popen([sys.executable, "-m", "hil.sim.e1", "--name", "e1a",
                                 "--run-dir", str(run_dir), "--options",
                                 json.dumps({"tdm": False})], cwd=ROOT)
        try:
            deadline = time.monotonic() + 20
            while not (run_dir / "e1a.ctl").exists():
                assert proc.poll() is None and time.monotonic() < deadline, "sim did not start"
                time.sleep(0.05)
            asyncio.run(_scenario(run_dir))
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        assert not (run_dir / "e1a.sock").exists()  # a clean stop removes its sockets
        assert (run_dir / "e1a.pcap").stat().st_size > 24


async def _scenario(run_dir: Path) -> None:
    ctl = str(run_dir / "e1a.ctl")

    async def control(method: str, **params: Any) -> Any:
        return await call_once(ctl, method, **params)

    entry = SpanEntry(name="e1a", address=f"sim:{run_dir}/e1a.sock", recovery_holdoff=0.05,
                      timers=PriTimers(t200=300, n200=3, t203=2000))
    pri = PriSpan.open(entry, RealClock(), on_incoming=answer_all)
    try:
        await _until(lambda: pri.status()["channel_counts"] == {"idle": 30})
        assert (await control("status"))["dchannel"] == "up"
        placed = await control("call", channel=7, called="4000", calling="0301")
        await _until(lambda: pri.channels[7].call is not None and
                     pri.channels[7].call.answered is not None)
        status = await control("status")
        assert status["calls"][str(placed["call"])]["state"] == "connected"
        with pytest.raises(ControlError, match="B-channel"):
            await control("call", channel=16)
        await control("fault", ais=True)
        await _until(lambda: pri.status()["alarms"] == ["blue"])
        assert pri.channels[7].call is None
        await control("fault", ais=False)
        await _until(lambda: pri.status()["channel_counts"] == {"idle": 30})
        await control("fault", slips=3)
        await _until(lambda: pri.status()["counters"]["slips"] == 3)
    finally:
        pri.close()
