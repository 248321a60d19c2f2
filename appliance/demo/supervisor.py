"""The demo's process supervisor: what systemd does for the daemons on the box.

Each daemon is a :class:`Unit` restarted the way its unit file says
(systemd/appliance-*.service: ``Restart=on-failure``): a unit that exits with
a failure status or is killed by a signal is started again after
``RestartSec=`` (:attr:`RestartPolicy.delay`); more than ``StartLimitBurst=``
restarts within ``StartLimitIntervalSec=`` (systemd.unit(5)) leave the unit
failed and stopped. A unit that exits with status 0 stays stopped. Every
event is printed, so the demo's terminal reads like ``journalctl``.
"""

from __future__ import annotations

import signal
import subprocess
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RestartPolicy:
    """``RestartSec=``, ``StartLimitBurst=`` and ``StartLimitIntervalSec=`` of one unit."""

    delay: float = 1.0
    burst: int = 5
    interval: float = 60.0


Spawn = Callable[[list[str]], "subprocess.Popen[bytes]"]
Ready = Callable[["Unit"], bool]


@dataclass(eq=False)
class Unit:
    """One supervised process: its command, how to tell it is ready, what to do then."""

    name: str
    argv: list[str]
    ready: Ready
    on_ready: Callable[[Unit], None] | None = None
    policy: RestartPolicy = field(default_factory=RestartPolicy)
    process: subprocess.Popen[bytes] | None = None
    state: str = "inactive"  # inactive, starting, running, auto-restart, failed, exited
    restart_at: float = 0.0
    restarts: deque[float] = field(default_factory=deque)  # monotonic times of restarts


def describe_exit(returncode: int) -> str:
    """'exited with status 3' or 'was killed by SIGKILL', as systemd words it."""
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with status {returncode}"


class Supervisor:
    """Starts units in order, restarts failed ones, stops them in reverse order."""

    def __init__(self, spawn: Spawn, monotonic: Callable[[], float],
                 say: Callable[[str], None]) -> None:
        self._spawn = spawn
        self._monotonic = monotonic
        self._say = say
        self.units: list[Unit] = []

    def start(self, unit: Unit) -> None:
        if unit not in self.units:
            self.units.append(unit)
        unit.process = self._spawn(unit.argv)
        unit.state = "starting"

    def poll(self) -> None:
        """One supervision step: notice exits, schedule and carry out restarts, readiness."""
        now = self._monotonic()
        for unit in self.units:
            process = unit.process
            if unit.state in ("starting", "running") and process is not None \
                    and process.poll() is not None:
                self._exited(unit, process, now)
            elif unit.state == "auto-restart" and now >= unit.restart_at:
                self.start(unit)
                assert unit.process is not None
                self._say(f"{unit.name} restarted (pid {unit.process.pid})")
            elif unit.state == "starting" and unit.ready(unit):
                unit.state = "running"
                if unit.restarts:
                    self._say(f"{unit.name} is running again")
                if unit.on_ready is not None:
                    unit.on_ready(unit)

    def _exited(self, unit: Unit, process: subprocess.Popen[bytes], now: float) -> None:
        what = f"{unit.name} (pid {process.pid}) {describe_exit(process.returncode)}"
        if process.returncode == 0:  # Restart=on-failure leaves a clean exit alone
            unit.state = "exited"
            self._say(f"{what}; not restarted (clean exit)")
            return
        policy = unit.policy
        while unit.restarts and now - unit.restarts[0] > policy.interval:
            unit.restarts.popleft()
        if len(unit.restarts) >= policy.burst:
            unit.state = "failed"
            self._say(f"{what}; {policy.burst} restarts within {policy.interval:g} s: "
                      "start limit hit, left stopped")
            return
        unit.restarts.append(now)
        unit.state = "auto-restart"
        unit.restart_at = now + policy.delay
        self._say(f"{what}; restarting in {policy.delay:g} s "
                  f"(restart {len(unit.restarts)} of {policy.burst} within {policy.interval:g} s)")

    def stop_all(self, timeout: float = 5.0) -> None:
        """SIGTERM in reverse start order, SIGKILL after ``timeout``; waits for each."""
        for unit in reversed(self.units):
            process = unit.process
            if process is None:
                continue
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            unit.state = "inactive"
