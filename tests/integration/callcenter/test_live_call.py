"""One live call end to end through the real daemon (issue 7's "done when").

The E1 simulator places a call; the IVR answers and plays the menu; the
caller keys 1 by DTMF on the B-channel; the call queues; the agent's FXS
phone rings with the caller's number; the agent lifts; caller and agent talk;
the caller hangs up. The database then holds the IVR visits, the queue events
and the CDR a manager's statistics are computed from.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import wait_for_socket

from appliance.demo.__main__ import write_config
from appliance.demo.prompts import make_prompts
from appliance.runtime.control import call_once

pytestmark = pytest.mark.integration

SIMULATORS = [("e1a", "e1"), ("phone1", "phone"), ("phone2", "phone")]


def call(sock: Path, method: str, **params: Any) -> Any:
    return asyncio.run(call_once(str(sock), method, **params))


def until(predicate: Any, timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} not reached within {timeout} s")


@pytest.fixture
def center(tmp_path: Path, start_daemon: Any) -> Any:
    sim = tmp_path / "sim"
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", f"hil.sim.{device}", "--name", name, "--run-dir", str(sim)]
        )
        for name, device in SIMULATORS
    ]
    try:
        for (name, _), process in zip(SIMULATORS, processes, strict=True):
            wait_for_socket(sim / f"{name}.ctl", process)
        make_prompts(str(tmp_path / "prompts"))
        text = Path(write_config(str(tmp_path), "unused")).read_text()
        # the demo configuration without the lines and the power rig this test does not start
        text = text.replace('level = "info"', 'level = "debug"')
        for port in ("fxo1", "fxo2"):
            start = text.index(f'[[rig.ports]]\nname = "{port}"')
            text = text[:start] + text[text.index("[[rig.ports]]", start + 1) :]
        config = tmp_path / "appliance.toml"
        config.write_text(text)
        daemon = start_daemon("telephonyd", config)
        sock = tmp_path / "run" / "telephonyd.sock"
        wait_for_socket(sock, daemon.process)
        until(
            lambda: call(sock, "spans.list")["spans"][0]["state"] == "up",
            what="span in service",
        )
        yield tmp_path, sock, sim, daemon
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)


def test_e1_call_through_ivr_and_queue_to_an_fxs_agent(center: Any) -> None:
    root, sock, sim, daemon = center
    agent = call(sock, "agents.login", agent="1001", device="fxs1")
    assert agent["state"] == "idle"

    placed = call(sim / "e1a.ctl", "call", channel=1, called="4000", calling="13800138000")["call"]
    up = until(lambda: call(sock, "calls.list")["calls"], what="call in the IVR")
    assert (up[0]["caller"], up[0]["callee"], up[0]["state"]) == ("13800138000", "4000", "ivr")
    # a second caller arrives meanwhile, and hangs up in the menu
    second = call(sim / "e1a.ctl", "call", channel=2, called="4000", calling="13900139000")["call"]
    until(lambda: len(call(sock, "calls.list")["calls"]) == 2, what="two calls up")
    time.sleep(1.0)  # into the menu prompt; the key barges in
    call(sim / "e1a.ctl", "dtmf", call=placed, digits="1")
    call(sim / "e1a.ctl", "hangup", call=second)
    until(lambda: len(call(sock, "calls.list")["calls"]) == 1, what="second caller gone")

    phone = until(
        lambda: (s := call(sim / "phone1.ctl", "status"))["caller_id"] and s,
        what="agent phone rings",
    )
    assert phone["caller_id"]["number"] == "13800138000"
    queued = call(sock, "calls.list")["calls"][0]
    assert queued["queue"] == "sales"
    assert call(sock, "agents.list")["agents"][0]["state"] == "ringing"

    call(sim / "phone1.ctl", "lift")
    until(
        lambda: call(sock, "agents.list")["agents"][0]["state"] == "talking", what="agent talking"
    )
    talking = call(sock, "calls.list")["calls"][0]
    assert talking["state"] == "talking"
    recording = until(lambda: call(sock, "rec.active"), what="recording started")
    assert recording[0]["call_id"] == talking["call_id"] and recording[0]["agent"] == "1001"
    call(sim / "phone1.ctl", "talk", hz=700)  # the agent speaks: a tone the caller must hear
    time.sleep(1.5)
    heard = call(sim / "e1a.ctl", "heard", call=placed, hz=700, seconds=1.0)
    assert heard["share"] > 0.8 and heard["level_dbm0"] > -30, heard  # agent -> engine -> E1 caller

    call(sim / "e1a.ctl", "hangup", call=placed)
    until(lambda: not call(sock, "calls.list")["calls"], what="call cleared")
    until(
        lambda: call(sock, "agents.list")["agents"][0]["state"] in ("wrapup", "idle"),
        what="agent free",
    )
    call(sim / "phone1.ctl", "hangup")
    assert daemon.process.poll() is None

    db = sqlite3.connect(root / "state" / "appliance.db")
    events = [
        r[0] for r in db.execute("SELECT event FROM queue_log WHERE queue = 'sales' ORDER BY id")
    ]
    assert events[:4] == ["ENTERQUEUE", "RINGING", "CONNECT", "COMPLETECALLER"]
    visits = db.execute("SELECT node, result FROM ivr_visits ORDER BY id").fetchall()
    assert sorted(visits[:2]) == [("menu", "1"), ("menu", "hangup")]  # IVR-7 node counts
    # the recording: indexed, final (its writer closes the file after the last queued frames,
    # a moment after the call), and a WAV that sox reads, as long as the conversation
    path, status, duration = until(
        lambda: (row := db.execute("SELECT path, status, duration FROM recordings").fetchone())
        and row[1] != "recording" and row, what="recording final")
    assert status == "complete" and duration >= 1.5
    wav = root / "state" / "recordings" / path
    soxi = subprocess.run(["soxi", "-D", str(wav)], capture_output=True, text=True, check=True)
    assert abs(float(soxi.stdout) - duration) < 0.1
    # the CDR is committed by the daemon's database writer, off the event loop: a moment
    # after the call (and possibly after the recorder's own commit of the final row)
    cdrs = until(
        lambda: len(rows := db.execute(
            "SELECT caller, callee, trunk, disposition, queue, agent FROM cdr ORDER BY id"
        ).fetchall()) >= 2 and rows, what="both CDRs committed")
    assert ("13800138000", "4000", "e1a", "ANSWERED", "sales", "1001") in cdrs
    assert [c[0] for c in cdrs] == ["13900139000", "13800138000"]  # in the order they ended


def test_click_to_dial_from_an_agent_through_appliancectl(center: Any) -> None:
    root, sock, sim, daemon = center
    ctl = [str(Path(sys.executable).parent / "appliancectl"), "--config", str(root / "appliance.toml")]
    refused = subprocess.run([*ctl, "calls", "originate", "nobody", "202"], capture_output=True, text=True, timeout=30)
    assert refused.returncode == 1 and "neither an agent with a phone nor an FXS phone" in refused.stderr
    placed = subprocess.run([*ctl, "calls", "originate", "1001", "202", "--json"], capture_output=True, text=True, timeout=30)
    assert placed.returncode == 0, placed.stderr
    until(lambda: call(sim / "phone1.ctl", "status")["rings"] >= 1, what="agent's own phone rings first")
    call(sim / "phone1.ctl", "lift")
    until(lambda: call(sim / "phone2.ctl", "status")["rings"] >= 1, what="the called phone rings")
    call(sim / "phone2.ctl", "lift")
    up = until(lambda: [c for c in call(sock, "calls.list")["calls"] if c["state"] == "talking"], what="joined")
    assert up[0]["direction"] == "outbound"
    call(sim / "phone1.ctl", "hangup")
    until(lambda: not call(sock, "calls.list")["calls"], what="call cleared")
    db = sqlite3.connect(root / "state" / "appliance.db")
    cdr = db.execute("SELECT direction, agent, disposition FROM cdr WHERE direction = 'outbound'").fetchone()
    assert cdr == ("outbound", "1001", "ANSWERED")
    audit = db.execute("SELECT action, outcome FROM audit_log WHERE action = 'call.originate'").fetchall()
    assert [a[1].split(":")[0] for a in audit] == ["refused", "ok"]
    assert daemon.process.poll() is None
