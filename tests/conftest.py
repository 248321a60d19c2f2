"""Shared test helpers: temporary configurations and running daemons."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.runtime.control import ControlError, call_once

BIN = Path(sys.executable).parent

# the operations scenarios' rig and its ``appliance`` fixture (tests/integration/operations)
sys.path.insert(0, str(Path(__file__).parent / "integration" / "operations"))
pytest_plugins = ["operations_rig"]


def minimal_config(root: Path, extra: str = "") -> Path:
    """A configuration whose state and sockets live under ``root``."""
    path = root / "appliance.toml"
    path.write_text(
        f'[paths]\nstate_dir = "{root}/state"\nrun_dir = "{root}/run"\n\n'
        '[logging]\ntarget = "stderr"\n' + extra,
        encoding="utf-8",
    )
    return path


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    return minimal_config(tmp_path)


def wait_for_socket(
    path: Path | str, process: subprocess.Popen[bytes] | None = None, timeout: float = 15.0
) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"process exited with {process.returncode} before answering")
        try:
            status: dict[str, object] = asyncio.run(call_once(str(path), "status", timeout=1.0))
            if status.get("state", "running") == "running":
                return status
        except (ControlError, OSError) as exc:
            last = exc
        time.sleep(0.05)
    raise AssertionError(f"{path} did not answer within {timeout} s: {last}")


class Daemon:
    """A daemon started as a real process with a configuration file."""

    def __init__(self, name: str, config: Path, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.config = config
        # stderr is inherited: pytest captures it per test, and an unread pipe could
        # fill up and block a chatty daemon
        self.process = subprocess.Popen(
            [str(BIN / f"appliance-{name}"), "--config", str(config)],
            env={**os.environ, **(env or {})},
        )

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 5.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def start_daemon() -> Iterator[object]:
    started: list[Daemon] = []

    def start(name: str, config: Path, env: dict[str, str] | None = None) -> Daemon:
        daemon = Daemon(name, config, env)
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        daemon.stop(signal.SIGKILL)
