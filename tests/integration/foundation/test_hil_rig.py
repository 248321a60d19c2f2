"""hil runs the simulators a rig names, each with its control socket, and stops them cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from appliance.config.errors import ConfigErrors
from appliance.runtime.control import ControlError, call_once
from hil.rig import load_rig

pytestmark = pytest.mark.integration

HIL = str(Path(sys.executable).parent / "hil")


def start_rig(tmp_path: Path, rig_text: str) -> tuple[subprocess.Popen[bytes], Path]:
    rig = tmp_path / "rig.toml"
    rig.write_text(rig_text)
    ready = tmp_path / "ready.json"
    process = subprocess.Popen(
        [HIL, "run", str(rig), "--run-dir", str(tmp_path / "sim"), "--ready-file", str(ready)]
    )
    deadline = time.monotonic() + 15
    while not ready.exists():
        assert process.poll() is None, "hil exited while starting"
        assert time.monotonic() < deadline, "rig did not become ready"
        time.sleep(0.05)
    return process, ready


RIG = """
name = "bench"
[[simulators]]
name = "plug1"
device = "loopplug"
[[simulators]]
name = "plug2"
device = "loopplug"
options = { drop_every = 2 }
"""


def test_rig_starts_simulators_with_control_sockets_and_stops_them_on_sigint(
    tmp_path: Path,
) -> None:
    process, ready = start_rig(tmp_path, RIG)
    try:
        status = json.loads(ready.read_text())
        assert [s["name"] for s in status] == ["plug1", "plug2"]
        pids = [s["pid"] for s in status]
        # the trivial device works: it echoes, and its fault injection drops every 2nd message
        for name, expected in (("plug1", [b"a", b"b", b"c"]), ("plug2", [b"a", b"c"])):
            line = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            line.connect(str(tmp_path / "sim" / f"{name}.sock"))
            line.settimeout(0.5)
            echoed = []
            for message in (b"a", b"b", b"c"):
                line.send(message)
                with contextlib.suppress(TimeoutError):
                    echoed.append(line.recv(100))
            line.close()
            assert echoed == expected
        counters = asyncio.run(call_once(str(tmp_path / "sim" / "plug2.ctl"), "status"))
        assert (counters["received"], counters["echoed"], counters["dropped"]) == (3, 2, 1)
        with pytest.raises(ControlError, match="drop_every"):
            asyncio.run(call_once(str(tmp_path / "sim" / "plug1.ctl"), "fault", drop_every=-3))
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(10) == 0
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists(), f"simulator {pid} left behind"
    assert sorted(os.listdir(tmp_path / "sim")) == []


def test_killed_supervisor_takes_its_simulators_with_it(tmp_path: Path) -> None:
    process, ready = start_rig(tmp_path, RIG)
    pids = [s["pid"] for s in json.loads(ready.read_text())]
    process.kill()
    process.wait()
    deadline = time.monotonic() + 5
    while any(Path(f"/proc/{pid}").exists() for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(Path(f"/proc/{pid}").exists() for pid in pids)


def test_bad_rig_file_is_refused_with_line_numbers(tmp_path: Path) -> None:
    rig = tmp_path / "bad.toml"
    rig.write_text('name = "x"\n[[simulators]]\nname = "a"\ndevice = "flux-capacitor"\n')
    with pytest.raises(ConfigErrors) as caught:
        load_rig(str(rig))
    assert str(caught.value).startswith(
        f"{rig}:4: simulators[0].device: unknown device 'flux-capacitor'"
    )
    result = subprocess.run(
        [HIL, "run", str(rig), "--run-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert result.returncode == 1 and "rig refused" in result.stderr


def test_hil_ctl_drives_a_simulator_and_reports_refusals_clearly(tmp_path: Path) -> None:
    process, _ = start_rig(tmp_path, RIG)
    control = str(tmp_path / "sim" / "plug1.ctl")
    try:
        done = subprocess.run([HIL, "ctl", control, "fault", "drop_every=3", "delay=0"], capture_output=True, text=True, timeout=20)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == {"delay": 0.0, "drop_every": 3}
        refused = subprocess.run([HIL, "ctl", control, "fault", "drop_every=lots"], capture_output=True, text=True, timeout=20)
        assert refused.returncode == 1
        assert refused.stderr.strip() == "Error: fault: 'drop_every' must be an integer >= 0 (0 = never drop)"
        usage = subprocess.run([HIL, "ctl", control, "fault", "drop_every"], capture_output=True, text=True, timeout=20)
        assert usage.returncode == 2 and "expected KEY=VALUE" in usage.stderr
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(10)
