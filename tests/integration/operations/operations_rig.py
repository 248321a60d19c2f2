"""Operations rig for scenarios: the real daemons on the demo rig, driven as their users drive them.

The ``appliance`` fixture starts ``hil run`` on the demo rig (E1 span, two
carrier lines, two FXS agent phones, mains/UPS/lifeline board, simulated
customers, paused so that each scenario places its own traffic), then
``appliance-powerd`` and ``appliance-telephonyd`` on the demo configuration.
A scenario acts only through what a user has:

* ``appliance.ctl("calls", "list")``: ``appliancectl`` as a subprocess
  (``ctl_json`` adds ``--json`` and parses the answer);
* ``appliance.console()``: ``appliance-console`` in tmux (80x24, vt100);
* ``appliance.sim("e1a", "call", ...)``: the technician's ``hil ctl`` on a
  simulator, which plays the far end (the carrier, a phone, the mains);

and asserts what the user sees and what the database holds
(``appliance.db()``, opened read-only).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from console_terminal import Terminal, console_on

from appliance.demo.__main__ import REPO_RIG, write_config
from appliance.runtime.control import ControlError, call_once

BIN = Path(sys.executable).parent
T = TypeVar("T")




def until(predicate: Callable[[], T], timeout: float = 20.0, what: str = "condition") -> T:
    """Poll ``predicate`` until it returns something true; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
        except (ControlError, OSError, KeyError, IndexError) as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(0.1)
    raise AssertionError(f"{what} not reached within {timeout} s (last: {last!r})")


class Appliance:
    """The running appliance of one scenario: its folder, daemons and rig."""

    def __init__(self, root: Path, rig_file: Path) -> None:
        self.root = root
        self.sim_dir = root / "sim"
        self.config = Path(write_config(str(root), str(rig_file)))
        self.env = {**os.environ, "APPLIANCE_CONFIG": str(self.config), "HOME": str(root)}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    # -- life cycle ---------------------------------------------------------------
    def start_rig(self, rig_file: Path) -> None:
        ready = self.root / "rig-ready.json"
        self.processes["rig"] = subprocess.Popen(
            [str(BIN / "hil"), "run", str(rig_file), "--run-dir", str(self.sim_dir),
             "--ready-file", str(ready)],
            start_new_session=True,
        )
        until(lambda: ready.exists() or self.processes["rig"].poll() is not None,
              timeout=30, what="the simulated rig")
        if self.processes["rig"].poll() is not None:
            raise AssertionError("the simulated rig did not start")

    def start_daemon(self, name: str) -> None:
        self.processes[name] = subprocess.Popen(
            [str(BIN / f"appliance-{name}"), "--config", str(self.config)],
            env=self.env, start_new_session=True,
        )
        self.wait_ready(name)

    def wait_ready(self, name: str, timeout: float = 30.0) -> None:
        def ready() -> bool:
            process = self.processes.get(name)
            if process is not None and process.poll() is not None:
                raise AssertionError(f"appliance-{name} exited with {process.returncode}")
            return bool(self.call(name, "status").get("state") == "running")

        until(ready, timeout=timeout, what=f"appliance-{name} ready")

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        process = self.processes[name]
        process.send_signal(sig)
        process.wait(10)

    def start_sip_edge(self) -> None:
        """``appliance-sip-edge``: Kamailio on the configuration's ``[sip]``."""
        self.processes["sip-edge"] = subprocess.Popen(
            [str(BIN / "appliance-sip-edge"), "--config", str(self.config)],
            env=self.env, start_new_session=True,
            stdout=(self.root / "sip-edge.log").open("wb"), stderr=subprocess.STDOUT)
        until(lambda: (self.root / "run" / "kamailio-rpc.sock").exists()
              or self.processes["sip-edge"].poll() is not None, what="Kamailio's RPC socket")
        assert self.processes["sip-edge"].poll() is None, \
            (self.root / "sip-edge.log").read_text()[-2000:]

    def stop(self) -> None:
        for name in reversed(list(self.processes)):  # the reverse of the start order
            process = self.processes[name]
            if process.poll() is not None:
                continue
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    # -- the user's interfaces ---------------------------------------------------------
    def ctl(self, *args: str, check: bool = True, timeout: float = 30.0,
            input: str | None = None) -> subprocess.CompletedProcess[str]:
        """``appliancectl ARGS`` as an admin at a shell runs it."""
        done = subprocess.run(
            [str(BIN / "appliancectl"), *args], env=self.env, capture_output=True, text=True,
            timeout=timeout, input=input,
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"appliancectl {' '.join(args)} exited {done.returncode}:\n"
                f"{done.stdout}\n{done.stderr}"
            )
        return done

    def ctl_json(self, *args: str) -> Any:
        return json.loads(self.ctl(*args, "--json").stdout)

    def sim(self, simulator: str, method: str, **params: Any) -> Any:
        """The technician's ``hil ctl`` on one simulator of the rig."""
        return asyncio.run(
            call_once(str(self.sim_dir / f"{simulator}.ctl"), method, **params)
        )

    def call(self, daemon: str, method: str, **params: Any) -> Any:
        """A daemon's control socket (for waiting on state, not for acting)."""
        return asyncio.run(
            call_once(str(self.root / "run" / f"{daemon}.sock"), method, timeout=5.0, **params)
        )

    def db(self) -> sqlite3.Connection:
        conn = sqlite3.connect(f"file:{self.root / 'state' / 'appliance.db'}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        return conn

    def rows(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        with self.db() as conn:
            return [dict(r) for r in conn.execute(sql, args)]

    # -- common traffic -----------------------------------------------------------------
    def span_up(self, span: str = "e1a") -> None:
        until(lambda: any(s["name"] == span and s["state"] == "up"
                          for s in self.call("telephonyd", "spans.list")["spans"]),
              what=f"span {span} up")

    def e1_call(self, channel: int = 1, calling: str = "13800138000",
                called: str = "4000") -> int:
        """A customer rings in on the E1 span; returns the simulator's call id."""
        placed = self.sim("e1a", "call", channel=channel, called=called, calling=calling)
        return int(placed["call"])

    def live_call(self, caller: str) -> dict[str, Any]:
        """The ``calls list`` row of the call from ``caller`` (waits for it)."""
        return until(lambda: next((c for c in self.ctl_json("calls", "list")["calls"]
                                   if c["caller"] == caller), None),
                     what=f"a live call from {caller}")


def paused_rig(root: Path) -> Path:
    """The demo rig with its simulated customers paused: scenarios place their own calls."""
    text = REPO_RIG.read_text(encoding="utf-8")
    marker = 'keys = "1" }'
    assert marker in text, "the demo rig's callers line changed; update the operations harness"
    rig = root / "rig.toml"
    rig.write_text(text.replace(marker, 'keys = "1", paused = true }'), encoding="utf-8")
    return rig


@contextlib.contextmanager
def running(root: Path, configure: Callable[[Appliance], None] = lambda box: None
            ) -> Iterator[Appliance]:
    """The rig, then powerd, then telephonyd in ``root``; ``configure`` may change the
    configuration file first. Everything is stopped on the way out."""
    rig = paused_rig(root)
    box = Appliance(root, rig)
    configure(box)
    try:
        box.start_rig(rig)
        box.start_daemon("powerd")
        box.start_daemon("telephonyd")
        yield box
    finally:
        box.stop()


@pytest.fixture
def appliance(tmp_path: Path) -> Iterator[Appliance]:
    """Both daemons on the demo rig, agents logged out, no traffic yet."""
    with running(tmp_path) as box:
        yield box


@pytest.fixture
def console(appliance: Appliance) -> Iterator[Terminal]:
    """``appliance-console`` on the scenario's appliance, in tmux (80x24, vt100)."""
    terminal = console_on(appliance.root, appliance.config)
    try:
        yield terminal
    finally:
        terminal.close()
