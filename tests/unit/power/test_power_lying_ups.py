"""A UPS that lies or falls silent during a mains outage (issue 13 item 6): the orderly
shutdown still starts within ``max_on_battery``. Virtual time, real drivers, hil simulators."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from power_rig import Rig

from appliance.power import PowerState
from hil.sim.ups import ReplyMode

LIMIT = 60.0  # max_on_battery in these tests; the battery itself lasts 300 s


@pytest.fixture
def rig(tmp_path: object) -> Iterator[Rig]:
    r = Rig(str(tmp_path), max_on_battery=LIMIT)
    yield r
    r.close()


async def _outage_with_a_lying_ups(rig: Rig, mode: ReplyMode, rail_readable: bool) -> float:
    """Mains cut while the UPS answers ``mode``; the virtual time until the shutdown command."""
    await rig.service.start()
    try:
        await rig.run(1.0)
        assert rig.service.policy.state is PowerState.MAINS
        rig.sim_ups.reply_mode = mode
        t_off = rig.clock.monotonic()
        rig.mains.off()
        await rig.run(0.5)
        if not rail_readable:
            rig.sim_board.nack.add(0x40)  # the INA219 stops answering too
        assert rig.service.policy.state is PowerState.ON_BATTERY
        await rig.run_until(lambda: bool(rig.commands), LIMIT + 40.0, 0.5)
        return rig.commands[0][0] - t_off
    finally:
        await rig.service.stop()


@pytest.mark.parametrize("mode", ["garbage", "silent", "truncated"])
def test_a_ups_answering_nonsense_on_battery_still_shuts_down_in_time(
    rig: Rig, mode: ReplyMode
) -> None:
    took = asyncio.run(_outage_with_a_lying_ups(rig, mode, rail_readable=True))
    # the limit, then telephonyd's 2 s prepare, within one 0.5 s scan step
    assert took == pytest.approx(LIMIT + rig.telephony.prepare_takes, abs=0.6)
    assert ("low_battery", "time-on-battery-limit") in rig.states()
    assert ("shutdown", "telephony-ready") in rig.states()


def test_stale_ups_and_unreadable_rail_on_battery_count_as_on_battery(rig: Rig) -> None:
    took = asyncio.run(_outage_with_a_lying_ups(rig, "garbage", rail_readable=False))
    assert took == pytest.approx(LIMIT + rig.telephony.prepare_takes, abs=0.6)
    # no doubt on battery: the state never went back, the limit fired
    assert ("power_unknown", "ups-stale-and-rail-unreadable") not in rig.states()
    assert ("low_battery", "time-on-battery-limit") in rig.states()


def test_the_last_charge_and_runtime_stop_counting_once_stale(rig: Rig) -> None:
    async def body() -> None:
        await rig.service.start()
        try:
            await rig.run(1.0)
            rig.mains.off()
            await rig.run(2.0)
            fresh = rig.service.inputs()
            assert fresh.ups_on_battery and fresh.runtime is not None
            rig.sim_ups.reply_mode = "garbage"
            await rig.run(rig.service.config.ups_stale_after + 2.0)
            stale = rig.service.inputs()
            assert stale.ups_on_battery and stale.mains_ok() is False
            assert stale.charge is None and stale.runtime is None
            assert stale.on_battery_for == pytest.approx(rig.service.config.ups_stale_after + 4.0,
                                                         abs=0.1)
            assert rig.service.status()["on_battery_for"] == stale.on_battery_for
        finally:
            await rig.service.stop()

    asyncio.run(body())


def test_mains_back_before_the_limit_disarms_it(rig: Rig) -> None:
    async def body() -> None:
        await rig.service.start()
        try:
            await rig.run(1.0)
            rig.sim_ups.reply_mode = "garbage"
            rig.mains.off()
            await rig.run(LIMIT / 2)
            rig.mains.restore()
            await rig.run_until(lambda: rig.service.policy.state is PowerState.MAINS, 2.0, 0.05)
            assert rig.service.on_battery_for() is None
            await rig.run(LIMIT)
            assert rig.service.policy.state is PowerState.MAINS
            assert rig.commands == []
        finally:
            await rig.service.stop()

    asyncio.run(body())


def test_a_healthy_ups_is_also_bound_by_the_limit(rig: Rig) -> None:
    took = asyncio.run(_outage_with_a_lying_ups(rig, "normal", rail_readable=True))
    # the battery would last 300 s and go low at 180 s; the 60 s limit comes first
    assert took == pytest.approx(LIMIT + rig.telephony.prepare_takes, abs=0.6)
