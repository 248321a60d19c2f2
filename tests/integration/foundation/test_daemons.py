"""Both daemons start, answer status, stream events, reload safely, notify systemd and stop on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import Daemon, minimal_config, wait_for_socket

from appliance.runtime.control import ControlClient, call_once

pytestmark = pytest.mark.integration

DAEMONS = ["telephonyd", "powerd"]


@pytest.mark.parametrize("name", DAEMONS)
def test_daemon_starts_answers_status_and_stops_on_sigterm_within_2s(
    tmp_path: Path, start_daemon: Any, name: str
) -> None:
    config = minimal_config(tmp_path)
    daemon: Daemon = start_daemon(name, config)
    status = wait_for_socket(tmp_path / "run" / f"{name}.sock", daemon.process)
    assert status["daemon"] == name
    assert status["state"] == "running"
    assert status["config"] == str(config)
    assert status["hardware"]["board"] == "i2c:/dev/i2c-1"  # type: ignore[index]
    if name == "telephonyd":
        assert status["healthy"] is True
    else:
        # no lifeline board on this machine: powerd runs, says so, and is not healthy
        power = status["components"]["power"]  # type: ignore[index]
        assert status["healthy"] is False
        assert "/dev/i2c-1" in power["missing_devices"]["board"]
    began = time.monotonic()
    assert daemon.stop(signal.SIGTERM) == 0
    assert time.monotonic() - began < 2.0
    assert not (tmp_path / "run" / f"{name}.sock").exists()


def test_events_stream_and_reload_refuses_a_bad_file_keeping_the_running_one(
    tmp_path: Path, start_daemon: Any
) -> None:
    config = minimal_config(tmp_path, '\n[rig]\nboard = "sim:"\n')
    daemon: Daemon = start_daemon("telephonyd", config)
    sock = tmp_path / "run" / "telephonyd.sock"
    wait_for_socket(sock, daemon.process)

    async def scenario() -> tuple[list[dict[str, Any]], Any, Any]:
        client = await ControlClient(str(sock), timeout=5).connect()
        events: list[dict[str, Any]] = []
        stream = client.events("service.*")

        async def collect() -> None:
            async for event in stream:
                events.append(event)
                if len(events) == 2:
                    return

        collector = asyncio.ensure_future(collect())
        await asyncio.sleep(0.2)
        # 1. a broken file arrives and SIGHUP asks for a reload: refused
        config.write_text(
            config.read_text().replace('target = "stderr"', 'target = "stderr"\nlevel = "chatty"')
        )
        daemon.process.send_signal(signal.SIGHUP)
        await asyncio.sleep(0.5)
        still = await call_once(str(sock), "config.show")
        # 2. a good file through the control socket: applied
        fixed = tmp_path / "fixed.toml"
        fixed.write_text(config.read_text().replace('"chatty"', '"debug"'))
        applied = await call_once(str(sock), "config.apply", path=str(fixed))
        await asyncio.wait_for(collector, 5)
        shown = await call_once(str(sock), "config.show")
        await client.close()
        return events, still, (applied, shown)

    events, still, (applied, shown) = asyncio.run(scenario())
    refused, reloaded = events
    assert refused["event"] == "service.reload_refused"
    (error,) = refused["data"]["errors"]
    assert error["key"] == "logging.level" and error["line"] == 7
    assert still["logging"]["level"] == "info"
    assert reloaded["event"] == "service.reload"
    assert applied == {"applied": ["logging.level"], "restart_required": [],
                       "source": str(tmp_path / "fixed.toml")}
    assert shown["logging"]["level"] == "debug"
    assert daemon.stop() == 0


def test_garbage_on_the_control_socket_does_not_disturb_the_daemon(
    tmp_path: Path, start_daemon: Any
) -> None:
    daemon: Daemon = start_daemon("powerd", minimal_config(tmp_path))
    sock = tmp_path / "run" / "powerd.sock"
    wait_for_socket(sock, daemon.process)
    raw = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    raw.connect(str(sock))
    raw.sendall(b'\x00\x01garbage\n{"method": "status"\n')
    answer = raw.makefile().readline()
    raw.close()
    assert json.loads(answer)["error"]["code"] == "parse-error"
    assert wait_for_socket(sock, daemon.process)["state"] == "running"
    assert daemon.stop() == 0


def test_sd_notify_messages_arrive_on_a_test_notify_socket(
    tmp_path: Path, start_daemon: Any
) -> None:
    notify_path = tmp_path / "notify.sock"
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(str(notify_path))
    receiver.settimeout(10)
    daemon: Daemon = start_daemon(
        "telephonyd",
        minimal_config(tmp_path),
        {"NOTIFY_SOCKET": str(notify_path), "WATCHDOG_USEC": "400000"},
    )
    messages: list[str] = []
    while not any("READY=1" in m for m in messages):
        messages.append(receiver.recv(4096).decode())
    while sum("WATCHDOG=1" in m for m in messages) < 2:
        messages.append(receiver.recv(4096).decode())
    daemon.process.send_signal(signal.SIGTERM)
    while not any("STOPPING=1" in m for m in messages):
        messages.append(receiver.recv(4096).decode())
    assert daemon.process.wait(5) == 0
    ready = next(m for m in messages if "READY=1" in m)
    assert "STATUS=running" in ready
    assert messages[0].startswith("STATUS=starting")


def test_invalid_configuration_stops_the_daemon_from_starting_with_every_error(
    tmp_path: Path,
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[paths]\nstate_dir = 5\n[logging]\nlevel = 'x'\n")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "appliance-telephonyd"), "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert result.returncode == 2
    assert f"{config}:2: paths.state_dir: expected a string, got integer" in result.stderr
    assert f"{config}:4: logging.level:" in result.stderr
