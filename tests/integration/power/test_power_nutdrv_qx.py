"""The Megatec simulator is proven by NUT's own nutdrv_qx reading it correctly on a pty."""

from __future__ import annotations

import os
import subprocess
import tempfile

import pytest

from drivers.ups import open_ups
from hil.sim.power_nut import NUT_BIN
from hil.sim.ups import MegatecPty, MegatecUps

pytestmark = pytest.mark.integration


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def nutdrv_qx_dump(port: str) -> dict[str, str]:
    """Run nutdrv_qx once (-d 1: dump after one update and exit) and parse its variables."""
    state = tempfile.mkdtemp(prefix="hil-qx-")
    env = {**os.environ, "NUT_STATEPATH": state, "NUT_ALTPIDPATH": state, "NUT_CONFPATH": state}
    user = ["-u", "root"] if os.geteuid() == 0 else []
    result = subprocess.run(
        [os.path.join(NUT_BIN, "nutdrv_qx"), "-s", "simups", "-x", f"port={port}",
         "-x", "protocol=megatec", "-d", "1", *user],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Using protocol: Megatec" in result.stderr
    values: dict[str, str] = {}
    for line in result.stdout.splitlines():
        key, sep, value = line.partition(": ")
        if sep and "." in key and " " not in key:
            values[key] = value
    return values


def test_nutdrv_qx_reads_the_simulator_on_line() -> None:
    sim = MegatecUps(load=42.0, mains_voltage=229.5, temperature=31.5)
    with MegatecPty(sim) as pty:
        values = nutdrv_qx_dump(pty.port)
    assert values["ups.status"] == "OL"
    assert values["device.mfr"] == "HIL Power"
    assert values["device.model"] == "LI-1500"
    assert values["ups.firmware"] == "V1.0"
    assert float(values["input.voltage"]) == 229.5
    assert float(values["ups.load"]) == 42.0
    assert float(values["ups.temperature"]) == 31.5
    assert float(values["battery.voltage"]) == pytest.approx(sim.battery_voltage(), abs=0.05)
    assert values["battery.voltage.nominal"] == "24.0"
    assert values["input.frequency.nominal"] == "50"
    assert values["ups.type"] == "offline / line interactive"
    assert values["ups.beeper.status"] == "enabled"


def test_nutdrv_qx_sees_on_battery_and_low_battery() -> None:
    clock = Clock()
    sim = MegatecUps(now=clock)
    with MegatecPty(sim) as pty:
        sim.set_mains(False)
        values = nutdrv_qx_dump(pty.port)
        assert values["ups.status"] == "OB"
        assert float(values["input.voltage"]) == 0.0
        clock.t += sim.runtime_at(sim.load, 100.0) * 0.85  # 15 % left: under the LB limit
        low = nutdrv_qx_dump(pty.port)
        ours = open_ups(f"serial:{pty.port}?protocol=megatec", now=clock).read()
    assert low["ups.status"] == "OB LB"
    assert {"OB", "LB"} <= ours.status
    # both drivers read the same battery voltage off the same reply
    assert float(low["battery.voltage"]) == pytest.approx(ours.battery_voltage, abs=0.01)


def test_battery_test_and_shutdown_flags_agree_with_nutdrv_qx() -> None:
    sim = MegatecUps()
    with MegatecPty(sim) as pty:
        ours = open_ups(f"serial:{pty.port}?protocol=megatec")
        ours.read()
        ours.command("test.battery.start.quick")
        assert nutdrv_qx_dump(pty.port)["ups.status"] == "OB CAL"
        assert {"OB", "CAL"} <= ours.read().status
        ours.command("shutdown.stayoff")
        assert nutdrv_qx_dump(pty.port)["ups.status"] == "OB CAL FSD"
        assert {"OB", "CAL", "FSD"} <= ours.read().status
        ours.close()
