"""Megatec Q1 driver against the UPS simulator on a pty (hil/sim/ups.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from drivers.ups import UpsProtocolError, open_ups
from drivers.ups.megatec import MegatecUps, parse_q1
from hil.sim.ups import MegatecPty
from hil.sim.ups import MegatecUps as SimUps


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def rig() -> Iterator[tuple[SimUps, MegatecUps, Clock]]:
    clock = Clock()
    sim = SimUps(now=clock)
    with MegatecPty(sim) as pty:
        driver = open_ups(f"serial:{pty.port}?protocol=megatec&timeout=0.3", now=clock)
        assert isinstance(driver, MegatecUps)
        yield sim, driver, clock
        driver.close()


def test_q1_reply_parses_every_field() -> None:
    q1 = parse_q1("(208.4 140.0 208.4 034 59.9 2.05 35.0 00110000")
    assert q1["input_voltage"] == 208.4
    assert q1["load"] == 34.0
    assert q1["battery_voltage"] == 2.05
    assert q1["avr"] and q1["ups_failed"] and not q1["utility_fail"]


@pytest.mark.parametrize(
    "reply, message",
    [
        ("(208.4 140.0 208.4 034 59.9", "has 5 fields"),
        ("208.4 140.0 208.4 034 59.9 2.05 35.0 00110000", "does not start"),
        ("(208.4 140.0 208.4 0x4 59.9 2.05 35.0 00110000", "load"),
        ("(208.4 140.0 208.4 034 59.9 2.05 35.0 0011000", "8 binary digits"),
        ("(208.4 140.0 208.4 034 59.9 2.05 35.0 0011002x", "8 binary digits"),
    ],
)
def test_malformed_q1_is_rejected_with_what_is_wrong(reply: str, message: str) -> None:
    with pytest.raises(UpsProtocolError, match=message):
        parse_q1(reply)


def test_reads_identity_and_online_status(rig: tuple[SimUps, MegatecUps, Clock]) -> None:
    _, ups, _ = rig
    reading = ups.read()
    assert not reading.stale
    assert reading.status == frozenset({"OL"})
    assert reading.charge == 100.0
    assert ups.identity["manufacturer"] == "HIL Power"
    assert ups.identity["model"] == "LI-1500"
    assert ups.cells == 12  # from F: 24 V nominal / 2 V per cell


def test_mains_loss_then_discharge_estimates_follow_the_battery(
    rig: tuple[SimUps, MegatecUps, Clock],
) -> None:
    sim, ups, clock = rig
    ups.read()
    sim.set_mains(False)
    first = ups.read()
    assert {"OB", "DISCHRG"} <= first.status and "OL" not in first.status
    clock.t += 600.0  # ten minutes on battery at 30 % load
    later = ups.read()
    assert later.charge is not None and first.charge is not None
    # charge from the voltage within 1 % of the simulator's true state of charge
    assert abs(later.charge - sim.charge) < 1.0
    assert later.charge < first.charge
    # runtime from the calibration (the sim uses the same law and calibration)
    assert later.runtime == pytest.approx(sim.runtime_at(sim.load, sim.charge), rel=0.02)
    clock.t += 10_000.0
    low = ups.read()
    assert "LB" in low.status


def test_commands_reach_the_ups(rig: tuple[SimUps, MegatecUps, Clock]) -> None:
    sim, ups, clock = rig
    ups.read()
    ups.command("test.battery.start.quick")
    assert "CAL" in ups.read().status
    clock.t += 11.0
    assert "CAL" not in ups.read().status
    ups.command("shutdown.return")
    assert "FSD" in ups.read().status
    ups.command("shutdown.stop")
    assert "FSD" not in ups.read().status
    assert sim.log.count("S.5R0001") == 1 and "C" in sim.log


def test_unknown_command_name_is_refused(rig: tuple[SimUps, MegatecUps, Clock]) -> None:
    _, ups, _ = rig
    with pytest.raises(Exception, match=r"no command 'outlet\.1\.off'"):
        ups.command("outlet.1.off")


@pytest.mark.parametrize("mode", ["silent", "truncated", "garbage"])
def test_faulty_line_gives_stale_data_then_recovers(
    rig: tuple[SimUps, MegatecUps, Clock], mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    sim, ups, clock = rig
    good = ups.read()
    sim.reply_mode = mode  # type: ignore[assignment]
    bad = ups.read()
    assert bad.stale and bad.status == good.status and bad.error
    assert any("data is stale" in r.getMessage() for r in caplog.records)
    sim.reply_mode = "normal"
    assert ups.read().stale  # back-off: no retry before 0.5 s
    clock.t += 0.6
    assert not ups.read().stale


def test_absent_port_is_stale_not_a_crash() -> None:
    ups = open_ups("serial:/dev/nonexistent-tty?protocol=megatec")
    reading = ups.read()
    assert reading.stale and "cannot open" in reading.error


def test_bad_address_options_are_reported() -> None:
    with pytest.raises(Exception, match="runtimecal"):
        open_ups("serial:/dev/ttyS1?protocol=megatec&runtimecal=1,2")
    with pytest.raises(Exception, match="unsupported"):
        open_ups("serial:/dev/ttyS1?protocol=voltronic")


def test_simulator_echoes_what_it_does_not_know() -> None:
    # Megatec protocol: an unknown or out-of-range command is echoed back
    sim = SimUps(now=Clock())
    assert sim.handle("XYZ") == "XYZ"
    assert sim.handle("S11") == "S11"  # shutdown delay over 10 minutes
    assert sim.handle("S.5R00x1") == "S.5R00x1"
    assert sim.handle("S.5R0002") is None  # accepted: no reply
    bits = sim.status_line().split()[-1]  # b7 .. b0
    assert bits[6] == "1" and bits[7] == "1"  # b1 shutdown active, b0 beeper on
    assert bits[0] == "0" and bits[4] == "1"  # b7 utility fine, b3 standby type


def test_driver_reports_a_query_the_ups_echoes(rig: tuple[SimUps, MegatecUps, Clock]) -> None:
    sim, ups, _ = rig
    ups.read()
    sim.reply_mode = "normal"
    original = sim._interpret
    sim._interpret = lambda command: command  # type: ignore[method-assign]
    try:
        reading = ups.read()
    finally:
        sim._interpret = original  # type: ignore[method-assign]
    assert reading.stale and "does not know the command 'Q1'" in reading.error
