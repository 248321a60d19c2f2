"""The NUT client against NUT's own upsd and dummy-ups, and whole power failures through them."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Iterator

import pytest

from appliance.config.sections.power import PowerSection
from appliance.config.validate import Problem, build
from appliance.power import PowerService, PowerState
from appliance.runtime.clock import RealClock
from drivers.board import open_board
from drivers.ups import open_ups
from drivers.ups.nut import NutUps
from hil.sim.board import SimBoard, program_identity
from hil.sim.mains import Mains
from hil.sim.power_nut import NutServer

pytestmark = pytest.mark.integration


DEFAULTS = {"ups.status": "OL", "battery.charge": "100", "battery.runtime": "1800",
            "input.voltage": "230.0"}


@pytest.fixture(scope="module")
def nut_server() -> Iterator[NutServer]:
    with NutServer(values=DEFAULTS) as server:
        yield server


@pytest.fixture
def nut(nut_server: NutServer) -> NutServer:
    """The module's upsd + dummy-ups, restarted if a test stopped them, back on mains."""
    if nut_server.driver is None:
        nut_server.start_driver()
    if nut_server.upsd is None:
        nut_server.start_upsd()
    nut_server.dev.set(DEFAULTS)
    wait_for(lambda: nut_server.status() == {"OL"}, 10.0)
    return nut_server


def wait_for(predicate: object, limit: float) -> float:
    start = time.monotonic()
    while not predicate():  # type: ignore[operator]
        if time.monotonic() - start > limit:
            raise AssertionError(f"not within {limit} s")
        time.sleep(0.02)
    return time.monotonic() - start


def test_reads_status_charge_and_runtime(nut: NutServer) -> None:
    ups = open_ups(nut.address)
    assert isinstance(ups, NutUps)
    reading = ups.read()
    assert not reading.stale
    assert reading.status == frozenset({"OL"})
    assert reading.charge == 100.0 and reading.runtime == 1800.0
    assert ups.get_var("ups.load") == "30"
    assert ups.server_version.startswith("Network UPS Tools upsd")
    nut.dev.set({"ups.status": "OB DISCHRG LB", "battery.charge": "12"})
    wait_for(lambda: "OB" in ups.read().status, 5.0)
    reading = ups.read()
    assert reading.on_battery and reading.low_battery and reading.charge == 12.0
    ups.close()


@pytest.mark.parametrize(
    "change, code", [("monpass", "ACCESS-DENIED"), ("hilups@", "UNKNOWN-UPS")]
)
def test_refusals_are_stale_readings_naming_the_error(nut: NutServer, change: str, code: str
                                                      ) -> None:
    address = nut.address.replace(change, "bad" if change == "monpass" else "nosuch@")
    reading = open_ups(address).read()
    assert reading.stale and code in reading.error


def test_upsd_going_away_and_coming_back(nut: NutServer) -> None:
    ups = open_ups(nut.address)
    assert not ups.read().stale
    nut.stop_process("upsd")
    gone = ups.read()
    assert gone.stale and gone.status == frozenset({"OL"})  # last values, flagged
    assert ups.read().stale  # within the back-off: not even retried
    time.sleep(0.6)
    refused = ups.read()
    assert refused.stale and "cannot connect" in refused.error
    nut.start_upsd()
    wait_for(lambda: not ups.read().stale, 10.0)  # back-off 1 s, then 2 s ...


def test_driver_gone_is_data_stale(nut: NutServer) -> None:
    ups = open_ups(nut.address)
    assert not ups.read().stale
    nut.stop_process("driver")
    wait_for(lambda: ups.read().stale, 15.0)
    error = ups.read().error
    assert "DATA-STALE" in error or "DRIVER-NOT-CONNECTED" in error


# ---- whole sequences through PowerService -------------------------------------------------
def section(**overrides: object) -> PowerSection:
    data: dict[str, object] = {
        "ups_poll_interval": 0.2, "rail_poll_interval": 0.02, "low_runtime": 300.0,
        "telephony_check_interval": 0.2, "telephony_timeout": 2.0, "prepare_deadline": 5.0,
        "relay_check_interval": 0.1,
    }
    data.update(overrides)
    problems: list[Problem] = []
    result = build(PowerSection, data, ("power",), problems)
    assert not problems
    return result


class Telephony:
    def __init__(self, takes: float) -> None:
        self.takes = takes
        self.asked: list[float] = []
        self.resumed = 0

    async def health(self) -> bool:
        return True

    async def prepare(self, deadline: float) -> bool:
        self.asked.append(time.monotonic())
        await asyncio.sleep(self.takes)
        return True

    async def resume(self) -> None:
        self.resumed += 1


async def until(predicate: object, limit: float) -> float:
    start = time.monotonic()
    while not predicate():  # type: ignore[operator]
        if time.monotonic() - start > limit:
            raise AssertionError(f"not within {limit} s")
        await asyncio.sleep(0.01)
    return time.monotonic() - start


def make_service(nut: NutServer, tmp: str, telephony: Telephony, **overrides: object
                 ) -> tuple[PowerService, SimBoard, Mains, str]:
    sim = SimBoard()
    program_identity(sim)
    marker = os.path.join(tmp, "powered-off")
    command = [sys.executable, "-c", f"open({marker!r}, 'w').write('bye')"]
    service = PowerService(
        section(shutdown_command=command, **overrides), RealClock(), ups=open_ups(nut.address),
        board=open_board("sim:", bus=sim), watchdog=None, telephony_health=telephony.health,
        telephony_prepare_shutdown=telephony.prepare, telephony_resume=telephony.resume,
    )
    return service, sim, Mains(board=sim, nut=nut.dev), marker


def relays(sim: SimBoard) -> list[bool]:
    return [sim.relay_energised(i) for i in range(len(sim.pairs))]


def test_full_power_failure_through_upsd(nut: NutServer, tmp_path: object) -> None:
    telephony = Telephony(takes=0.3)
    service, sim, mains, marker = make_service(nut, str(tmp_path), telephony)

    async def main() -> None:
        await service.start()
        try:
            await until(lambda: all(relays(sim)), 3.0)
            mains.off()
            lifeline = await until(lambda: not any(relays(sim)), 1.0)
            assert lifeline < 0.5  # the INA219 sees it first (two 20 ms samples + I/O)
            ob = await until(lambda: service.ups_reading is not None
                             and service.ups_reading.on_battery, 5.0)
            assert ob < 4.0  # dummy-ups polls its file every second
            assert service.policy.state is PowerState.ON_BATTERY
            nut.dev.set({"battery.runtime": "200", "battery.charge": "30"})
            low = await until(lambda: service.policy.state is PowerState.LOW_BATTERY, 5.0)
            assert low < 4.0
            await until(lambda: "command-done" in dict(service.shutdown_steps), 5.0)
            assert os.path.exists(marker)
            steps = dict(service.shutdown_steps)
            assert 0.3 <= steps["telephony-ack"] - steps["telephony-prepare"] < 1.5
            assert steps["command-done"] - steps["command"] < 5.0
            assert service.policy.state is PowerState.SHUTDOWN
            assert service.command_status == 0
        finally:
            await service.stop()

    asyncio.run(main())
    states = [e["state"] for e in service.events.history(100)]  # oldest first
    assert [s for s in states if s in ("on_battery", "low_battery", "shutdown")] == [
        "on_battery", "low_battery", "shutdown"]


def test_mains_back_before_the_point_of_no_return(nut: NutServer, tmp_path: object) -> None:
    telephony = Telephony(takes=4.0)
    service, sim, mains, marker = make_service(nut, str(tmp_path), telephony)

    async def main() -> None:
        await service.start()
        try:
            await until(lambda: all(relays(sim)), 3.0)
            mains.off()
            nut.dev.set({"battery.runtime": "100"})
            await until(lambda: bool(telephony.asked), 5.0)
            mains.restore()
            nut.dev.set({"battery.runtime": "1800"})
            await until(lambda: service.policy.state is PowerState.MAINS, 5.0)
            await until(lambda: all(relays(sim)), 2.0)
            assert telephony.resumed == 1
            await asyncio.sleep(1.0)
            assert not os.path.exists(marker)
        finally:
            await service.stop()

    asyncio.run(main())


def test_fsd_is_honoured_and_latched_until_upsd_restarts(nut: NutServer, tmp_path: object
                                                         ) -> None:
    telephony = Telephony(takes=0.1)
    service, sim, _, marker = make_service(nut, str(tmp_path), telephony)

    async def main() -> None:
        await service.start()
        try:
            await until(lambda: all(relays(sim)), 3.0)
            assert nut.set_fsd() == "OK FSD-SET"
            await until(lambda: os.path.exists(marker), 5.0)
            assert ("fsd" in [e["reason"] for e in service.events.history(100)])
        finally:
            await service.stop()

    asyncio.run(main())
    nut.dev.set({"ups.status": "OL"})
    time.sleep(1.5)
    assert "FSD" in nut.status()  # upsd keeps it
    nut.stop_process("upsd")
    nut.start_upsd()
    wait_for(lambda: "FSD" not in nut.status(), 5.0)


# a scripted failure for dummy-ups (dummy-ups(8) "TIMER"): 8 s on mains (upsd takes ~3 s to
# serve the first data), 3 s on battery, then low battery; the file loops (dummy-loop), so
# the test watches the first pass
SEQUENCE = """\
ups.status: OL
battery.charge: 100
battery.runtime: 1800
input.voltage: 230.0
TIMER 8
ups.status: OB DISCHRG
input.voltage: 0.0
battery.charge: 90
battery.runtime: 1500
TIMER 3
ups.status: OB DISCHRG LB
battery.charge: 10
battery.runtime: 60
TIMER 30
"""


def test_scripted_sequence_through_upsd_step_timing(tmp_path: object) -> None:
    """The UPS alone reports the failure (no rail sensor): each step lands on the script's
    TIMER schedule, within the driver (1 s) and powerd (0.2 s) polls."""
    with NutServer(seq=SEQUENCE) as server:
        telephony = Telephony(takes=0.2)
        service = PowerService(
            section(shutdown_command=["true"]), RealClock(), ups=open_ups(server.address),
            board=None, watchdog=None, telephony_health=telephony.health,
            telephony_prepare_shutdown=telephony.prepare,
        )
        seen: dict[str, float] = {}

        async def main() -> None:
            await service.start()
            try:
                await until(lambda: service.ups_reading is not None, 2.0)
                assert service.ups_reading is not None and service.ups_reading.on_line
                for state in (PowerState.MAINS, PowerState.ON_BATTERY, PowerState.LOW_BATTERY,
                              PowerState.SHUTDOWN):
                    await until(lambda s=state: service.policy.state is s, 12.0)
                    seen[state.value] = time.monotonic()
            finally:
                await service.stop()

        asyncio.run(main())
    on_battery_for = seen["low_battery"] - seen["on_battery"]
    assert 3.0 - 1.3 <= on_battery_for <= 3.0 + 1.3
    assert seen["shutdown"] - seen["low_battery"] == pytest.approx(0.2, abs=0.3)
    reasons = [(e["state"], e["reason"]) for e in service.events.history(100)]
    assert ("on_battery", "ups-on-battery") in reasons
    assert ("low_battery", "ups-low-battery") in reasons


def test_ups_alerts_are_raised_and_cleared(nut: NutServer) -> None:
    telephony = Telephony(takes=0.1)
    service = PowerService(
        section(), RealClock(), ups=open_ups(nut.address), board=None, watchdog=None,
        telephony_health=telephony.health, telephony_prepare_shutdown=telephony.prepare,
    )

    def events() -> list[tuple[str, str]]:
        return [(e["state"], e["reason"]) for e in service.events.history(100)]

    async def main() -> None:
        await service.start()
        try:
            await until(lambda: service.ups_reading is not None, 2.0)
            nut.dev.set({"ups.status": "OL RB ALARM"})
            await until(lambda: ("ups_alert", "ups-replace-battery") in events(), 5.0)
            assert ("ups_alert", "ups-alarm") in events()
            assert service.policy.state is PowerState.MAINS
            nut.dev.set({"ups.status": "OL"})
            await until(lambda: ("ups_alert_cleared", "ups-alarm") in events(), 5.0)
        finally:
            await service.stop()

    asyncio.run(main())
