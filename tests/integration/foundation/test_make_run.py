"""`make run` starts the daemons and the rig, answers status, restarts either daemon killed
with SIGKILL (state kept, lifeline engaged meanwhile; telephonyd untouched by powerd's
crash), never runs a host command, and Ctrl-C leaves nothing behind."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from appliance.config import load_config

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]


def descendants(pid: int) -> set[int]:
    found: set[int] = set()
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for child in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = child.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == parent:
                child_pid = int(child.parent.name)
                if child_pid not in found:
                    found.add(child_pid)
                    frontier.append(child_pid)
    return found


def test_make_run_starts_everything_and_ctrl_c_stops_it_cleanly() -> None:
    process = subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    output: list[str] = []
    deadline = time.monotonic() + 240  # the first run may have to install the project
    config = None
    try:
        for line in process.stdout:
            output.append(line)
            match = re.search(r"export APPLIANCE_CONFIG=(\S+)", line)
            if match:
                config = match.group(1)
            if line.strip() == "demo: ready":
                break
            assert time.monotonic() < deadline, "make run did not become ready:\n" + "".join(output)
        assert config, "".join(output)
        children = descendants(process.pid)
        assert len(children) >= 4  # demo, hil + its simulators, both daemons
        status = subprocess.run(
            [
                str(Path(sys.executable).parent / "appliancectl"),
                "--config",
                config,
                "status",
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert status.returncode == 0, status.stdout + status.stderr
        assert {d["daemon"]: d["state"] for d in json.loads(status.stdout)["daemons"]} == {
            "telephonyd": "running",
            "powerd": "running",
        }
        state_dir = Path(config).parent
        pids = {d["daemon"]: d["pid"] for d in json.loads(status.stdout)["daemons"]}
        for daemon in json.loads(status.stdout)["daemons"]:  # each froze its start-up heap
            assert daemon["gc"]["frozen"] > 10_000, daemon["gc"]

        # the demo never touches the host: its host commands are the logging stand-ins
        loaded = load_config(config)
        for command in (loaded.power.shutdown_command, loaded.host.network_apply,
                        loaded.host.restart_command):
            assert command[:3] == [sys.executable, "-m", "appliance.demo.standin"], command
        assert loaded.host.network_dir.startswith(str(state_dir))

        # powerd first releases the lifeline it held while telephonyd was starting; a kill
        # before that (a loaded machine) would find it still engaged for the start-up
        released_by = time.monotonic() + 30
        while True:
            power = subprocess.run(
                [str(Path(sys.executable).parent / "appliancectl"), "--config", config,
                 "power", "status", "--json"], capture_output=True, text=True, timeout=30)
            if power.returncode == 0 and not json.loads(power.stdout)["lifeline"]["engaged"]:
                break
            assert time.monotonic() < released_by, power.stdout + power.stderr
            time.sleep(0.2)

        # a crash of telephonyd: restarted as Restart=on-failure does, the state folder kept
        killed_at = time.time()
        os.kill(pids["telephonyd"], signal.SIGKILL)
        for line in process.stdout:
            output.append(line)
            if "appliance-telephonyd is running again" in line:
                break
            assert time.monotonic() < deadline + 60, "no restart:\n" + "".join(output)
        assert "was killed by SIGKILL" in "".join(output)
        again = subprocess.run(
            [str(Path(sys.executable).parent / "appliancectl"), "--config", config,
             "status", "--json"], capture_output=True, text=True, timeout=30,
        )
        daemons = {d["daemon"]: d for d in json.loads(again.stdout)["daemons"]}
        assert daemons["telephonyd"]["state"] == "running"
        assert daemons["telephonyd"]["pid"] != pids["telephonyd"]
        again_pid = daemons["telephonyd"]["pid"]
        # powerd held the lifeline while telephonyd was gone (PWR-3)
        with sqlite3.connect(f"file:{state_dir / 'state' / 'appliance.db'}?mode=ro",
                             uri=True) as db:
            events = db.execute(
                "SELECT state, reason FROM power_events WHERE at >= ?", (killed_at,)
            ).fetchall()
        assert ("lifeline_engaged", "telephony-down") in events, events

        # a crash of powerd: restarted too; telephonyd and its calls do not notice
        os.kill(pids["powerd"], signal.SIGKILL)
        for line in process.stdout:
            output.append(line)
            if "appliance-powerd is running again" in line:
                break
            assert time.monotonic() < deadline + 120, "no powerd restart:\n" + "".join(output)
        last = subprocess.run(
            [str(Path(sys.executable).parent / "appliancectl"), "--config", config,
             "status", "--json"], capture_output=True, text=True, timeout=30,
        )
        daemons = {d["daemon"]: d for d in json.loads(last.stdout)["daemons"]}
        assert daemons["powerd"]["state"] == "running"
        assert daemons["powerd"]["pid"] != pids["powerd"]
        assert daemons["telephonyd"]["pid"] == again_pid  # untouched by powerd's crash
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        rest = process.communicate(timeout=20)[0]
        # make dies of the SIGINT itself (or reports the interrupted recipe), as in a terminal
        assert process.returncode in (0, 2, -signal.SIGINT), rest
        assert "demo: stopped" in rest
        leftovers = [pid for pid in children if Path(f"/proc/{pid}").exists()]
        assert leftovers == [], f"processes left behind: {leftovers}"
        assert not state_dir.exists(), "temporary state folder (and its sockets) left behind"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

