"""appliance-sip-edge watches Kamailio (issue 16.1): READY once Kamailio answers, the
systemd watchdog petted while it does, a hung Kamailio (every process stopped) killed
and the edge exiting 1 for a restart; SIGTERM stops Kamailio and exits 0."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hil.sip.baresip import free_port

pytestmark = pytest.mark.integration

EDGE = str(Path(sys.executable).with_name("appliance-sip-edge"))


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, Path]]:
    path = tmp_path / "notify.sock"
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(str(path))
    receiver.settimeout(15)
    yield receiver, path
    receiver.close()


def start_edge(folder: Path, notify_path: Path) -> subprocess.Popen[bytes]:
    config = folder / "appliance.toml"
    config.write_text(f'[paths]\nrun_dir = "{folder}/run"\nstate_dir = "{folder}/state"\n\n'
                      f'[sip]\nenabled = true\nlisten_port = {free_port()}\n'
                      '[sip.extensions.201]\npassword = "secret-201"\n')
    return subprocess.Popen([EDGE, "--config", str(config)],
                            env={**os.environ, "NOTIFY_SOCKET": str(notify_path),
                                 "WATCHDOG_USEC": "2000000"},  # a ping every second
                            stdout=(folder / "edge.log").open("wb"), stderr=subprocess.STDOUT)


def messages_until(receiver: socket.socket, wanted: str) -> list[str]:
    seen: list[str] = []
    while wanted not in seen:
        seen.extend(receiver.recv(4096).decode().splitlines())
    return seen


def kamailio_pid(folder: Path) -> int:
    pidfile = folder / "run" / "kamailio.pid"
    deadline = time.monotonic() + 10
    while not pidfile.exists() or not pidfile.read_text().strip():
        assert time.monotonic() < deadline, "no kamailio.pid"
        time.sleep(0.05)
    return int(pidfile.read_text())


def wait_gone(pgid: int) -> None:
    """Every process of Kamailio's group ends within 5 s."""
    deadline = time.monotonic() + 5
    while True:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        assert time.monotonic() < deadline, "Kamailio's processes survived"
        time.sleep(0.05)


def test_a_hung_kamailio_is_killed_and_the_edge_exits_for_a_restart(
        tmp_path: Path, notify_socket: tuple[socket.socket, Path]) -> None:
    receiver, path = notify_socket
    edge = start_edge(tmp_path, path)
    try:
        assert "READY=1" in messages_until(receiver, "READY=1")
        messages_until(receiver, "WATCHDOG=1")  # petted while Kamailio answers
        group = os.getpgid(kamailio_pid(tmp_path))
        os.killpg(group, signal.SIGSTOP)  # every Kamailio process hangs
        assert edge.wait(20) == 1
        assert "did not answer core.uptime (3 of 3)" in (tmp_path / "edge.log").read_text()
        wait_gone(group)
    finally:
        edge.kill()
        edge.wait()


def test_sigterm_stops_kamailio_and_the_edge_exits_0(
        tmp_path: Path, notify_socket: tuple[socket.socket, Path]) -> None:
    receiver, path = notify_socket
    edge = start_edge(tmp_path, path)
    try:
        messages_until(receiver, "READY=1")
        group = os.getpgid(kamailio_pid(tmp_path))
        edge.send_signal(signal.SIGTERM)
        assert edge.wait(15) == 0
        wait_gone(group)
    finally:
        edge.kill()
        edge.wait()
