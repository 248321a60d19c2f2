"""Watchdog driver against the simulated /dev/watchdog (kernel watchdog-api semantics)."""

from __future__ import annotations

import os
import tempfile
import time

import pytest

from drivers.watchdog import WatchdogError, WatchdogInitError, open_watchdog
from hil.sim.watchdog import SimWatchdog, WatchdogServer


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_pets_keep_it_alive_and_missing_pets_fire_it() -> None:
    clock = Clock()
    dog = SimWatchdog(2.0, now=clock)
    assert dog.open()
    for _ in range(5):
        clock.t += 1.5
        dog.write(b"\0")
        assert not dog.expired()
    clock.t += 2.1
    assert dog.expired()
    dog.write(b"\0")  # too late: it has fired
    assert dog.expired()


def test_magic_close_stops_it_plain_close_does_not() -> None:
    clock = Clock()
    dog = SimWatchdog(1.0, now=clock)
    dog.open()
    dog.write(b"V")
    dog.close()
    clock.t += 10
    assert not dog.expired()
    dog.open()
    dog.write(b"\0")
    dog.close()
    clock.t += 1.5
    assert dog.expired()


def test_second_opener_is_refused() -> None:
    dog = SimWatchdog()
    assert dog.open()
    assert not dog.open()


def _wait(predicate: object, limit: float = 2.0) -> bool:
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.01)
    return False


def test_driver_over_the_simulator_socket() -> None:
    dog = SimWatchdog(1.0)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "wd.sock")
        server = WatchdogServer(dog, path)
        try:
            wd = open_watchdog(f"sim:{path}")
            with pytest.raises(WatchdogError, match="not open"):
                wd.pet()
            wd.open()
            assert _wait(lambda: dog.is_open)
            for _ in range(4):
                wd.pet()
                time.sleep(0.1)
            assert not dog.expired() and dog.pets >= 4
            wd.disarm()
            assert _wait(lambda: not dog.is_open)
            time.sleep(1.1)
            assert not dog.expired()
            wd.open()
            assert _wait(lambda: dog.is_open)
            wd.close()  # as a crashed process would: no magic character
            assert _wait(lambda: dog.expired(), 3.0)
        finally:
            server.close()


def test_missing_device_is_an_init_error() -> None:
    with pytest.raises(WatchdogInitError):
        open_watchdog("dev:/nonexistent/watchdog").open()
    with pytest.raises(WatchdogInitError):
        open_watchdog("sim:/nonexistent/wd.sock").open()


def test_dev_backend_writes_keepalives_and_the_magic_character(tmp_path: object) -> None:
    # a plain file stands in for /dev/watchdog: what the driver writes is what the kernel gets
    path = os.path.join(str(tmp_path), "watchdog")
    open(path, "wb").close()
    wd = open_watchdog(f"dev:{path}")
    wd.open()
    wd.pet()
    wd.pet()
    wd.disarm()
    with open(path, "rb") as handle:
        assert handle.read() == b"\0\0V"
    assert not wd.is_open
    other = path + "2"
    open(other, "wb").close()
    with pytest.raises(WatchdogInitError, match="cannot set timeout"):
        open_watchdog(f"dev:{other}?timeout=10").open()  # a file has no WDIOC_SETTIMEOUT
    with open(other, "rb") as handle:
        assert handle.read() == b"V"  # and it was magic-closed, not left running
    with pytest.raises(WatchdogInitError, match="bad timeout"):
        open_watchdog("dev:/dev/watchdog?timeout=soon")
