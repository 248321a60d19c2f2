"""PowerService scenarios on a virtual clock: real drivers, hil simulators, fake telephonyd."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Iterator

import pytest
from power_rig import Rig

from appliance.power import PowerState
from appliance.runtime.control import ControlError


@pytest.fixture
def rig(tmp_path: object) -> Iterator[Rig]:
    r = Rig(str(tmp_path))
    yield r
    r.close()


def scenario(body: Callable[[Rig], Awaitable[None]]) -> Callable[[Rig], None]:
    def run(rig: Rig) -> None:
        async def main() -> None:
            await rig.service.start()
            try:
                await body(rig)
            finally:
                await rig.service.stop()

        asyncio.run(main())

    run.__name__ = body.__name__
    return run


async def _ready(rig: Rig) -> None:
    await rig.run(1.0)
    assert rig.energised() == [True] * 4, rig.service.status()["lifeline"]
    assert rig.service.policy.state is PowerState.MAINS


@scenario
async def full_megatec_sequence(rig: Rig) -> None:
    await _ready(rig)
    t_off = rig.clock.monotonic()
    rig.mains.off()
    latency = await rig.run_until(lambda: not any(rig.energised()), 1.0)
    # two rail samples 50 ms apart confirm the loss
    assert latency <= 2 * 0.05 + 0.011
    assert rig.service.policy.state is PowerState.ON_BATTERY
    assert ("on_battery", "input-rail-lost") in rig.states()
    # the battery runs down: low when the runtime estimate crosses 120 s
    await rig.run_until(lambda: rig.service.policy.state is PowerState.LOW_BATTERY, 400, 1.0)
    t_low = rig.clock.monotonic() - t_off
    full = rig.sim_ups.runtime_at(rig.sim_ups.load, 100.0)  # 300 s at 50 % load
    expected = full - 120.0  # runtime falls 1 s per s from `full`
    # UPS poll (1 s) plus the 0.1 V resolution of Q1 (1.7 % of charge = 5 s)
    assert abs(t_low - expected) <= 1.0 + 0.017 * full + 0.5
    assert rig.telephony.prepares, "telephonyd was not asked to prepare"
    asked_at, deadline = rig.telephony.prepares[0]
    assert deadline == 30.0
    assert asked_at == pytest.approx(t_off + t_low, abs=1.0)  # within the 1 s scan step
    await rig.run_until(lambda: rig.service.policy.state is PowerState.SHUTDOWN, 5.0, 0.1)
    await rig.run(0.1)
    assert rig.commands and rig.commands[0][1] == ["/sbin/poweroff-test"]
    steps = dict(rig.service.shutdown_steps)
    assert steps["telephony-ack"] - steps["telephony-prepare"] == pytest.approx(2.0)
    assert steps["command"] == pytest.approx(steps["telephony-ack"])
    assert [s for s, _ in rig.states() if s in ("mains", "on_battery", "low_battery",
                                                 "shutdown")] == [
        "on_battery", "low_battery", "shutdown"]
    assert not any(rig.energised())


def test_full_power_failure_with_megatec_ups(rig: Rig) -> None:
    full_megatec_sequence(rig)


@scenario
async def deadline_passes(rig: Rig) -> None:
    rig.telephony.prepare_takes = 100.0
    await _ready(rig)
    rig.mains.off()
    await rig.run_until(lambda: rig.service.policy.state is PowerState.LOW_BATTERY, 400, 1.0)
    t_low = rig.clock.monotonic()
    await rig.run_until(lambda: bool(rig.commands), 40.0, 0.5)
    assert rig.commands[0][0] - t_low == pytest.approx(30.0, abs=1.0)
    assert ("shutdown", "prepare-deadline-passed") in rig.states()


def test_shutdown_goes_on_when_telephony_misses_its_deadline(rig: Rig) -> None:
    deadline_passes(rig)


@scenario
async def mains_back_in_time(rig: Rig) -> None:
    rig.telephony.prepare_takes = 20.0
    await _ready(rig)
    rig.mains.off()
    await rig.run_until(lambda: rig.service.policy.state is PowerState.LOW_BATTERY, 400, 1.0)
    await rig.run(5.0)
    rig.mains.restore()
    await rig.run_until(lambda: rig.service.policy.state is PowerState.MAINS, 3.0, 0.05)
    await rig.run(2.0)
    assert rig.telephony.resumed == 1
    assert rig.commands == []
    assert rig.energised() == [True] * 4
    assert ("mains", "mains-restored-before-shutdown") in rig.states()
    await rig.run(60.0)
    assert rig.commands == []


def test_mains_back_before_point_of_no_return_cancels(rig: Rig) -> None:
    mains_back_in_time(rig)


@scenario
async def telephony_dies(rig: Rig) -> None:
    await _ready(rig)
    rig.telephony.healthy = False
    t0 = rig.clock.monotonic()
    took = await rig.run_until(lambda: not any(rig.energised()), 10.0, 0.05)
    # the timer runs from the last healthy answer (at most one check interval before t0)
    assert 5.0 - 1.0 <= took <= 5.0 + 0.06
    assert "telephony-unhealthy" in rig.service.lifeline.reasons
    assert rig.clock.monotonic() - t0 == pytest.approx(took)
    rig.telephony.healthy = True
    await rig.run_until(lambda: all(rig.energised()), 2.0, 0.05)


def test_telephony_unhealthy_engages_lifeline_within_timeout(rig: Rig) -> None:
    telephony_dies(rig)


@scenario
async def telephony_killed(rig: Rig) -> None:
    await _ready(rig)
    rig.telephony.running = False  # kill -9: the socket refuses at the next check
    took = await rig.run_until(lambda: not any(rig.energised()), 10.0, 0.05)
    assert took <= 1.0 + 0.06  # one check interval, not the 5 s telephony_timeout
    assert "telephony-down" in rig.service.lifeline.reasons
    assert ("lifeline_engaged", "telephony-down") in rig.states()
    rig.telephony.running = True  # restarted by systemd
    await rig.run_until(lambda: all(rig.energised()), 2.0, 0.05)
    assert "telephony-down" not in rig.service.lifeline.reasons


def test_killed_telephony_engages_lifeline_at_the_next_check(rig: Rig) -> None:
    telephony_killed(rig)


@scenario
async def call_on_bypass(rig: Rig) -> None:
    await _ready(rig)
    rig.mains.off()
    await rig.run_until(lambda: not any(rig.energised()), 1.0)
    rig.sim_board.off_hook.add(2)  # someone answers a carrier call on the analog phone
    await rig.run(3.0)
    rig.mains.restore()
    await rig.run(3.0)
    assert rig.service.policy.state is PowerState.MAINS
    assert rig.energised() == [True, True, False, True]
    assert rig.service.lifeline.pairs[2].position == "waiting"
    assert ("lifeline_waiting", "call-in-progress") in rig.states()
    await rig.run(30.0)
    assert not rig.energised()[2]  # still up: never cut
    rig.sim_board.off_hook.discard(2)
    await rig.run_until(lambda: all(rig.energised()), 1.0, 0.1)


def test_mains_back_during_a_bypass_call_waits_for_on_hook(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, "appliance.power"):
        call_on_bypass(rig)
    assert any("stays on lifeline until on-hook" in r.getMessage() for r in caplog.records)


@scenario
async def stuck_relay(rig: Rig) -> None:
    rig.sim_board.stick(1, energised=False)
    await rig.run(1.0)
    assert not any(rig.energised())
    assert "relay-stuck" in rig.service.lifeline.reasons
    assert ("relay_stuck", "contact-readback-mismatch") in rig.states()
    await rig.run(5.0)
    assert not any(rig.energised())  # latched


def test_stuck_relay_holds_every_line_on_lifeline(rig: Rig) -> None:
    stuck_relay(rig)


@scenario
async def everything_silent(rig: Rig) -> None:
    await _ready(rig)
    rig.sim_ups.reply_mode = "silent"
    rig.sim_board.nack.add(0x40)  # INA219 gone too
    await rig.run_until(lambda: not any(rig.energised()), 15.0, 0.5)
    assert "power-unknown" in rig.service.lifeline.reasons
    assert rig.service.policy.state is PowerState.MAINS  # in doubt: no shutdown
    assert rig.commands == []
    rig.sim_ups.reply_mode = "normal"
    rig.sim_board.nack.clear()
    await rig.run_until(lambda: all(rig.energised()), 40.0, 0.5)


def test_ups_silent_and_rail_unreadable_end_in_lifeline(rig: Rig) -> None:
    everything_silent(rig)


@scenario
async def i2c_dead(rig: Rig) -> None:
    await _ready(rig)
    rig.sim_board.bus_error = True
    rig.mains.off()  # the lifeline must engage but the expander cannot be written
    await rig.run(1.0)
    assert rig.service.lifeline.failsafe_needed
    assert rig.energised() == [True] * 4  # I2C is dead: only the watchdog can help now
    await rig.run_until(lambda: not any(rig.energised()), 5.0, 0.1)
    assert rig.sim_watchdog.fired
    assert ("watchdog_starved", "the relays cannot be driven over I2C") in rig.states()


def test_i2c_failure_while_engaging_drops_relays_through_the_watchdog(rig: Rig) -> None:
    i2c_dead(rig)


@scenario
async def fsd_from_ups(rig: Rig) -> None:
    await _ready(rig)
    rig.sim_ups.handle("S.5")  # the UPS announces it will cut its output: FSD
    await rig.run_until(lambda: rig.service.policy.state is PowerState.LOW_BATTERY, 3.0, 0.1)
    assert ("low_battery", "fsd") in rig.states()
    await rig.run_until(lambda: bool(rig.commands), 5.0, 0.1)


def test_fsd_is_honoured(rig: Rig) -> None:
    fsd_from_ups(rig)


@scenario
async def operator_test(rig: Rig) -> None:
    await _ready(rig)
    result = await rig.service.handle_test_lifeline({"seconds": 4})
    assert result["engaged"] and result["contacts_verified"]
    assert result["until"] == pytest.approx(rig.clock.time() + 4)
    assert not any(rig.energised())
    await rig.run(3.0)
    assert not any(rig.energised())
    await rig.run(2.0)
    assert all(rig.energised())
    with pytest.raises(ControlError, match="seconds"):
        await rig.service.handle_test_lifeline({"seconds": "long"})
    history = (await rig.service.handle_history({"limit": 100}))["events"]
    assert history[0]["at"] <= history[-1]["at"]  # oldest first
    assert [e["id"] for e in history] == sorted(e["id"] for e in history)
    assert any(e["state"] == "lifeline_test" and e["detail"] == {"seconds": 4} for e in history)
    status = await rig.service.handle_status({})
    assert status["state"] == "mains" and status["ups"]["status"] == ["OL"]
    assert status["input"]["volts"] == pytest.approx(12.0, abs=0.004)
    assert status["lifeline"]["relays"][0] == {"pair": "pair0", "energised": True,
                                               "readback": True}
    assert status["lifeline"]["pairs"][0]["position"] == "appliance"
    with pytest.raises(ControlError, match="limit"):
        await rig.service.handle_history({"limit": 0})


def test_lifeline_test_and_control_requests(rig: Rig) -> None:
    operator_test(rig)


def test_stop_engages_lifeline_and_disarms_watchdog(rig: Rig) -> None:
    async def main() -> None:
        await rig.service.start()
        await _ready(rig)
        await rig.service.stop()
        await rig.service.stop()  # twice is fine

    asyncio.run(main())
    assert not any(rig.energised())
    assert not rig.sim_watchdog.armed
    assert rig.states()[-1][0] == "stopped"


def test_relays_stay_on_lifeline_until_telephony_is_first_healthy(rig: Rig) -> None:
    rig.telephony.healthy = False

    async def main() -> None:
        await rig.service.start()
        await rig.run(10.0)
        assert not any(rig.energised())
        assert {"starting", "telephony-unhealthy"} <= rig.service.lifeline.reasons
        rig.telephony.healthy = True
        await rig.run(1.5)
        assert all(rig.energised())
        await rig.service.stop()

    asyncio.run(main())


def test_lifeline_on_low_battery_only_keeps_calls_on_the_appliance(tmp_path: object) -> None:
    rig = Rig(str(tmp_path), lifeline_on="low_battery")

    async def main() -> None:
        await rig.service.start()
        await _ready(rig)
        rig.mains.off()
        await rig.run(2.0)
        assert rig.service.policy.state is PowerState.ON_BATTERY
        assert all(rig.energised())
        await rig.run_until(lambda: not any(rig.energised()), 400, 1.0)
        assert rig.service.policy.state is PowerState.LOW_BATTERY
        await rig.service.stop()

    try:
        asyncio.run(main())
    finally:
        rig.close()


def test_no_board_means_lifeline_and_no_pets(tmp_path: object) -> None:
    rig = Rig(str(tmp_path))
    rig.sim_board.nack.add(0x50)  # EEPROM does not answer: board unusable

    async def main() -> None:
        await rig.service.start()
        await rig.run(5.0)
        status = rig.service.status()
        assert status["lifeline"]["failsafe_needed"] and status["lifeline"]["engaged"]
        assert not status["watchdog"]["petting"]
        assert ("board_fault", "board-open-failed") in rig.states()
        await rig.service.stop()

    try:
        asyncio.run(main())
    finally:
        rig.close()
    assert not any(rig.energised())


def test_ups_is_told_to_cut_output_and_return_after_the_command(tmp_path: object) -> None:
    rig = Rig(str(tmp_path), ups_shutdown_return=True)

    async def main() -> None:
        await rig.service.start()
        await _ready(rig)
        rig.sim_ups.set_mains(False)
        rig.sim_board.set_rail(0.0)
        rig.sim_ups.charge = 30.0  # 90 s left at 50 % load: under low_runtime
        await rig.run_until(lambda: bool(rig.commands), 10.0, 0.5)
        await rig.run(1.0)
        await rig.service.stop()

    try:
        asyncio.run(main())
    finally:
        rig.close()
    assert "S.5R0001" in rig.sim_ups.log  # NUT shutdown.return -> Megatec S.5R0001


def test_event_log_survives_a_broken_database(caplog: pytest.LogCaptureFixture) -> None:
    import sqlite_utils

    from appliance.power.events import PowerEventLog
    from appliance.runtime.clock import VirtualClock

    clock = VirtualClock()
    published: list[tuple[str, dict[str, object]]] = []
    db = sqlite_utils.Database(memory=True)
    db.conn.close()  # the disk went away under us
    log = PowerEventLog(clock, db, lambda topic, data: published.append((topic, data)))
    log.record("on_battery", "mains", "input-rail-lost", {"rail_ok": False})
    clock.advance(1)
    log.record("mains", "on_battery", "mains-restored", {})
    assert any("cannot write power_events" in r.getMessage() for r in caplog.records)
    history = log.history(10)
    assert any("cannot read power_events" in r.getMessage() for r in caplog.records)
    assert [e["state"] for e in history] == ["on_battery", "mains"]
    assert history[0]["detail"] == {"rail_ok": False}
    assert [e["state"] for e in log.history(10, since=clock.time())] == ["mains"]
    assert published[0][0] == "power.event" and published[0][1]["reason"] == "input-rail-lost"


@scenario
async def loop_crash(rig: Rig) -> None:
    await _ready(rig)

    def broken() -> float:
        raise ZeroDivisionError("a bug in a loop")

    rig.board.temperature = broken  # type: ignore[method-assign]
    await rig.run_until(lambda: not any(rig.energised()), 6.0, 0.1)
    assert rig.sim_watchdog.fired
    assert ("watchdog_starved", "the relays loop(s) crashed") in rig.states()


def test_a_crashed_loop_starves_the_watchdog_and_the_relays_drop(rig: Rig) -> None:
    loop_crash(rig)


def test_new_power_settings_apply_to_the_outage_in_progress(tmp_path: object) -> None:
    """config apply of [power] (PowerService.reconfigure): a lower time-on-battery limit
    counts from the outage's start, and lifeline_on changed to on_battery engages now."""
    rig = Rig(str(tmp_path), lifeline_on="low_battery")

    async def main() -> None:
        await rig.service.start()
        await _ready(rig)
        rig.mains.off()
        await rig.run(20.0)
        assert rig.service.policy.state is PowerState.ON_BATTERY and all(rig.energised())
        await rig.service.reconfigure(dataclasses.replace(
            rig.service.config, lifeline_on="on_battery", max_on_battery=30.0))
        assert not any(rig.energised())  # lines straight through to the phones at once
        await rig.run_until(lambda: rig.service.policy.state is PowerState.LOW_BATTERY, 15.0)
        assert ("low_battery", "time-on-battery-limit") in rig.states()
        await rig.service.stop()

    try:
        asyncio.run(main())
    finally:
        rig.close()
