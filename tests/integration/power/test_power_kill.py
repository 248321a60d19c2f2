"""kill -9 of telephonyd and of powerd: the lifeline engages by itself.

The board, watchdog and UPS simulators run in this process; powerd (PowerService
hosted as appliance-powerd hosts it) and a stand-in telephonyd run as their
own processes and are killed with SIGKILL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from hil.sim.board import BoardServer
from hil.sim.mains import build_rig
from hil.sim.ups import MegatecPty
from hil.sim.watchdog import WatchdogServer

pytestmark = pytest.mark.integration

HERE = os.path.dirname(os.path.abspath(__file__))
WATCHDOG_TIMEOUT = 1.5
TELEPHONY_TIMEOUT = 1.0  # powerd_host.py's telephony_timeout


@dataclass
class Bench:
    tmp: str
    rig: tuple
    powerd: subprocess.Popen[str]
    telephonyd: subprocess.Popen[bytes]

    def relays(self) -> list[bool]:
        board = self.rig[2]
        return [board.relay_energised(i) for i in range(len(board.pairs))]


def wait_for(predicate: object, limit: float, step: float = 0.005) -> float:
    start = time.monotonic()
    while not predicate():  # type: ignore[operator]
        if time.monotonic() - start > limit:
            raise AssertionError(f"not within {limit} s")
        time.sleep(step)
    return time.monotonic() - start


@pytest.fixture
def bench(tmp_path: object) -> Iterator[Bench]:
    tmp = str(tmp_path)
    rig = build_rig(watchdog_timeout=WATCHDOG_TIMEOUT)
    _, ups, board, watchdog = rig
    pty = MegatecPty(ups)
    board_server = BoardServer(board, os.path.join(tmp, "board.sock"))
    wd_server = WatchdogServer(watchdog, os.path.join(tmp, "watchdog.sock"))
    tel_path = os.path.join(tmp, "telephonyd.sock")
    telephonyd = subprocess.Popen([sys.executable, os.path.join(HERE, "fake_telephonyd.py"),
                                   tel_path])
    wait_for(lambda: os.path.exists(tel_path), 5.0, 0.02)
    log_path = os.path.join(tmp, "powerd.log")
    with open(log_path, "w") as log_file:
        powerd = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "powerd_host.py"), board_server.path,
             wd_server.path, pty.port, tel_path],
            stdout=subprocess.PIPE, stderr=log_file, text=True,
        )
    b = Bench(tmp, rig, powerd, telephonyd)
    try:
        try:
            wait_for(lambda: all(b.relays()), 10.0, 0.02)
        except AssertionError:
            with open(log_path) as log_file:
                raise AssertionError("powerd did not energise the relays:\n"
                                     + log_file.read()[-3000:]) from None
        yield b
    finally:
        for process in (powerd, telephonyd):
            if process.poll() is None:
                process.kill()
            process.wait(5)
        if powerd.stdout:
            powerd.stdout.close()
        for part in (pty, board_server, wd_server):
            part.close()


def test_kill_9_telephonyd_engages_lifeline_within_the_timeout(bench: Bench) -> None:
    os.kill(bench.telephonyd.pid, signal.SIGKILL)
    took = wait_for(lambda: not any(bench.relays()), 5.0)
    # the timer runs from the last healthy answer, at most one 0.1 s check before the kill
    # (+0.3 s for scheduling on a loaded machine)
    assert TELEPHONY_TIMEOUT - 0.1 - 0.05 <= took <= TELEPHONY_TIMEOUT + 0.3
    assert bench.powerd.poll() is None  # powerd is fine: it chose the lifeline


def test_kill_9_powerd_drops_relays_through_the_watchdog(bench: Bench) -> None:
    watchdog = bench.rig[3]
    os.kill(bench.powerd.pid, signal.SIGKILL)
    bench.powerd.wait(5)
    time.sleep(0.5)
    assert all(bench.relays())  # nothing but the watchdog can drop them now
    took = 0.5 + wait_for(lambda: not any(bench.relays()), 3.0)
    assert watchdog.fired
    # last pet at most one 0.25 s interval before the kill
    # (the lower bound leaves room for a late pet on a loaded machine)
    assert WATCHDOG_TIMEOUT - 0.5 <= took <= WATCHDOG_TIMEOUT + 0.15


def test_sigterm_stops_powerd_in_lifeline_with_the_watchdog_disarmed(bench: Bench) -> None:
    watchdog = bench.rig[3]
    bench.powerd.send_signal(signal.SIGTERM)
    assert bench.powerd.wait(10) == 0
    assert not any(bench.relays())
    time.sleep(WATCHDOG_TIMEOUT + 0.3)
    assert not watchdog.armed and not watchdog.fired
