"""Analog ports against hil simulator *processes* over real UNIX sockets.

The carrier line (hil.sim.pstn) and the phone (hil.sim.phone) run as their
own processes in the hil process convention (``--name --run-dir --options``,
a control socket NAME.ctl); the appliance side opens them by configured
address (``sim:DIR/NAME.sock``) through the driver registry, as telephonyd
does, and the scenario drives the line through its control socket.
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from appliance.media.engine import MediaEngine
from appliance.runtime.clock import VirtualClock
from appliance.runtime.control import ControlError, call_once
from appliance.signalling.analog.channel import AnalogCallEvent
from appliance.signalling.analog.fxo import FxoChannel, FxoSettings, FxoState
from appliance.signalling.analog.fxs import FxsChannel, FxsSettings, FxsState
from appliance.signalling.analog.switch import AnalogSwitch
from drivers.analog import open_analog
from drivers.analog.errors import AnalogPortInitError
from hil.sim.analog_rig import call_core

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
ACD: dict[str, Any] = {"agents": [{"id": "1001", "device": "desk1"}],
                       "queues": [{"name": "sales", "members": ["1001"]}]}
IVR: dict[str, Any] = {"flows": [{"name": "main", "start": "q", "nodes": [
    {"name": "q", "type": "queue", "queue": "sales"}]}], "routes": [{"flow": "main"}]}


def _start(module: str, name: str, run_dir: Path, options: dict[str, Any]
           ) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-m", module, "--name", name,
                             "--run-dir", str(run_dir), "--options", json.dumps(options)],
                            cwd=ROOT)
    deadline = time.monotonic() + 20
    while not ((run_dir / f"{name}.sock").exists() and (run_dir / f"{name}.ctl").exists()):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"{module} did not start")
        time.sleep(0.05)
    return proc


def _control(run_dir: Path, name: str, method: str, **params: Any) -> Any:
    return asyncio.run(call_once(str(run_dir / f"{name}.ctl"), method, **params))


@pytest.fixture
def run_dir(tmp_path: Path) -> Iterator[Path]:
    procs = [
        _start("hil.sim.pstn", "line1", tmp_path, {"country": "CN", "clear": ["busy"]}),
        _start("hil.sim.phone", "desk1", tmp_path, {"country": "CN", "answer_after_s": 4.0}),
    ]
    yield tmp_path
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert not (tmp_path / "line1.sock").exists()  # a clean stop removes its sockets


@pytest.mark.slow  # flaky: see below; run with `make test-slow`
def test_inbound_line_call_rung_through_to_a_phone_process_and_cleared(run_dir: Path) -> None:
    """Steps a virtual clock against simulator processes that pace themselves; a caller-ID
    burst or busy tone split by that stepping fails about one run in three, so it is not
    in the default suite. The same path with the daemon's real clock is proven by
    test_analog_in_telephonyd.py and the live call test."""
    clock = VirtualClock()
    events: list[AnalogCallEvent] = []
    engine = MediaEngine(capacity=4)
    switch = AnalogSwitch(clock, engine, on_event=events.append)
    engine.on_event = switch.on_media_event
    fxo = FxoChannel(open_analog(f"sim:{run_dir / 'line1.sock'}", "fxo", "line1"), clock,
                     engine, FxoSettings(country="CN", rings_before_answer=2))
    fxs = FxsChannel(open_analog(f"sim:{run_dir / 'desk1.sock'}", "fxs", "desk1"), clock,
                     engine, FxsSettings(country="CN", extension="201"))
    switch.add(fxo)
    switch.add(fxs)
    # the call core routes the line's call through a queue to the agent at desk1
    _registry, center = call_core(switch, clock, engine, events.append, ACD, IVR)
    center.acd.login("1001", "desk1")
    try:
        _scenario(run_dir, switch, engine, clock, fxo, fxs, events)
    finally:
        switch.close()


def _scenario(run_dir: Path, switch: AnalogSwitch, engine: MediaEngine, clock: VirtualClock,
              fxo: FxoChannel, fxs: FxsChannel, events: list[AnalogCallEvent]) -> None:
    fds = [fxo.port.fileno(), fxs.port.fileno()]  # type: ignore[attr-defined]

    def tick(n: int) -> None:
        for _ in range(n):
            switch.receive()
            engine.tick()
            select.select(fds, [], [], 0.2)  # the simulators answer each frame
            clock.advance(0.02)

    tick(5)
    assert _control(run_dir, "line1", "ring", number="13912345678")["state"] == "alerting"
    for _ in range(800):
        tick(1)
        if fxs.state is FxsState.CONNECTED:
            break
    assert fxo.caller_id is not None and fxo.caller_id.number == "13912345678"
    tick(25)
    phone = _control(run_dir, "desk1", "status")
    assert phone["off_hook"] and phone["caller_id"]["number"] == "13912345678"
    assert _control(run_dir, "line1", "status")["state"] == "talking"
    _control(run_dir, "line1", "hangup")
    for _ in range(300):
        tick(1)
        if fxo.state is FxoState.RELEASING:
            break
    assert fxo.disconnect_reason == "busy tone"
    assert fxs.state is FxsState.TONE  # the phone was told the far end left
    kinds = [(e.port, e.kind) for e in events]
    assert ("desk1", "answered") in kinds and ("line1", "disconnected") in kinds
    with pytest.raises(ControlError, match="mode must be"):
        _control(run_dir, "desk1", "dial", digits="12", mode="rotary")
    tick(5)
    rung = _control(run_dir, "line1", "ring")  # the line is free again after the release
    assert rung["state"] == "alerting"


def test_a_simulator_that_is_not_running_is_reported_plainly(tmp_path: Path) -> None:
    with pytest.raises(AnalogPortInitError, match="does not answer"):
        open_analog(f"sim:{tmp_path / 'nothing.sock'}", "fxo", "line1")
    assert not os.path.exists(tmp_path / "nothing.sock")
