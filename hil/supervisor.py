"""Start the simulator processes a rig names, watch them, and stop them cleanly.

Each simulator runs as a child process that dies with its parent
(``PR_SET_PDEATHSIG``), so a killed supervisor leaves no orphans. Stopping
sends SIGTERM in reverse start order, waits, then SIGKILLs what is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

from appliance.runtime.control import ControlError, call_once
from hil.rig import Rig, SimulatorEntry
from hil.sim import DEVICES
from hil.sim.process import control_path

log = logging.getLogger("hil.supervisor")

PR_SET_PDEATHSIG = 1  # prctl(2)


def die_with_parent() -> None:
    """preexec_fn: ask the kernel to SIGTERM this child when its parent dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


@dataclass
class RunningSimulator:
    entry: SimulatorEntry
    process: subprocess.Popen[bytes]
    control: str


@dataclass
class RigSupervisor:
    rig: Rig
    run_dir: str
    stop_timeout: float = 3.0
    running: list[RunningSimulator] = field(default_factory=list)

    async def start(self) -> None:
        os.makedirs(self.run_dir, exist_ok=True)
        try:
            for entry in self.rig.simulators:
                await self._start_one(entry)
        except BaseException:
            await self.stop()
            raise

    async def _start_one(self, entry: SimulatorEntry) -> None:
        command = [
            sys.executable,
            "-m",
            DEVICES[entry.device],
            "--name",
            entry.name,
            "--run-dir",
            self.run_dir,
            "--options",
            json.dumps(entry.options),
        ]
        process = subprocess.Popen(command, preexec_fn=die_with_parent)
        sim = RunningSimulator(entry, process, control_path(self.run_dir, entry.name))
        self.running.append(sim)
        deadline = time.monotonic() + entry.start_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"simulator {entry.name} ({entry.device}) exited with {process.returncode} "
                    "while starting"
                )
            with contextlib.suppress(ControlError, OSError):
                await call_once(sim.control, "ping", timeout=1.0)
                log.info(
                    "simulator ready",
                    extra={"simulator": entry.name, "device": entry.device, "pid": process.pid},
                )
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"simulator {entry.name} did not answer on {sim.control} "
                    f"within {entry.start_timeout:g} s"
                )
            await asyncio.sleep(0.05)

    def exited(self) -> list[str]:
        """Names of simulators that have exited on their own."""
        return [s.entry.name for s in self.running if s.process.poll() is not None]

    async def stop(self) -> None:
        for sim in reversed(self.running):
            if sim.process.poll() is None:
                sim.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        for sim in reversed(self.running):
            while sim.process.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            if sim.process.poll() is None:
                log.warning(
                    "simulator did not stop; killing it", extra={"simulator": sim.entry.name}
                )
                sim.process.kill()
                sim.process.wait()
        self.running.clear()

    async def status(self) -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        for sim in self.running:
            try:
                out.append(await call_once(sim.control, "status", timeout=2.0))
            except ControlError as exc:
                out.append(
                    {"name": sim.entry.name, "device": sim.entry.device, "error": exc.message}
                )
        return out
