"""The demo rig's power simulator process (hil.sim.mains): one mains switch drives UPS,
INA219 and board together, and powerd's logic follows through the real drivers."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from typing import Any

import pytest

from appliance.config.sections.power import PowerSection
from appliance.config.validate import Problem, build
from appliance.power import PowerService, PowerState
from appliance.runtime.clock import RealClock
from appliance.runtime.control import call_once
from drivers.board import open_board
from drivers.ups import open_ups
from drivers.watchdog import open_watchdog

pytestmark = pytest.mark.integration


async def until(predicate: Any, limit: float) -> float:
    start = time.monotonic()
    while not await predicate():
        if time.monotonic() - start > limit:
            raise AssertionError(f"not within {limit} s")
        await asyncio.sleep(0.01)
    return time.monotonic() - start


def test_mains_switch_drives_ups_rail_and_board(tmp_path: object) -> None:
    run_dir = str(tmp_path)
    ctl = os.path.join(run_dir, "power.ctl")
    rig = subprocess.Popen([sys.executable, "-m", "hil.sim.mains", "--name", "power",
                            "--run-dir", run_dir, "--options", '{"watchdog_timeout": 2.0}'])
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(ctl):
            assert time.monotonic() < deadline and rig.poll() is None, "rig did not start"
            time.sleep(0.02)
        asyncio.run(scenario(ctl))
    finally:
        rig.terminate()
        assert rig.wait(10) == 0
    assert not os.path.exists(ctl)
    assert not os.path.exists(os.path.join(run_dir, "power.ups.tty"))


async def scenario(ctl: str) -> None:
    status = await call_once(ctl, "status")
    problems: list[Problem] = []
    config = build(PowerSection, {"ups_poll_interval": 0.2, "rail_poll_interval": 0.02,
                                  "relay_check_interval": 0.05, "watchdog_interval": 0.2},
                   ("power",), problems)
    assert not problems

    async def healthy() -> bool:
        return True

    async def prepare(deadline: float) -> bool:
        return True

    service = PowerService(
        config, RealClock(), ups=open_ups(f"sim:{status['ups_link']}"),
        board=open_board(f"sim:{status['board_socket']}"),
        watchdog=open_watchdog(f"sim:{status['watchdog_socket']}"),
        telephony_health=healthy, telephony_prepare_shutdown=prepare,
    )

    async def relays() -> list[bool]:
        return list((await call_once(ctl, "status"))["relays_energised"])

    await service.start()
    try:
        await until(lambda: _all(relays), 5.0)
        assert (await call_once(ctl, "status"))["watchdog"]["armed"]
        off = await call_once(ctl, "mains", on=False)
        assert off["rail_volts"] == 0.0
        await until(lambda: _none(relays), 1.0)
        await until(lambda: _state(service, PowerState.ON_BATTERY), 1.0)
        await until(lambda: _ups_on_battery(service), 2.0)
        assert service.rail_volts == 0.0
        await call_once(ctl, "hook", pair=1, off_hook=True)
        await call_once(ctl, "mains", on=True)
        await until(lambda: _state(service, PowerState.MAINS), 2.0)
        await asyncio.sleep(0.3)
        assert await relays() == [True, False, True, True]  # pair 1 has a call on the phone
        await call_once(ctl, "hook", pair=1, off_hook=False)
        await until(lambda: _all(relays), 2.0)
        await call_once(ctl, "fault", ups_reply="garbage")
        await asyncio.sleep(0.5)
        assert service.ups_reading is not None and service.ups_reading.stale
        assert service.policy.state is PowerState.MAINS  # the rail still says mains
        await call_once(ctl, "fault", ups_reply="normal")
    finally:
        await service.stop()
    final = await call_once(ctl, "status")
    assert final["relays_energised"] == [False] * 4
    assert not final["watchdog"]["armed"]


async def _all(relays: Any) -> bool:
    return all(await relays())


async def _none(relays: Any) -> bool:
    return not any(await relays())


async def _state(service: PowerService, state: PowerState) -> bool:
    return service.policy.state is state


async def _ups_on_battery(service: PowerService) -> bool:
    return service.ups_reading is not None and service.ups_reading.on_battery
