"""``[power]``: UPS policy thresholds, lifeline relays, watchdog and orderly shutdown.

Read by appliance-powerd (PWR-1, PWR-2, PWR-3, TRUNK-4). Every time is in
seconds of the daemon's clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from appliance.config.sections.host import argv_check
from appliance.config.validate import setting


@dataclass(frozen=True)
class LifelinePair:
    """One lifeline relay: the carrier line (FXO port) it can hand to an analog phone."""

    name: str = setting(doc="Name in logs and `power status`", pattern=r"[A-Za-z0-9_.-]{1,32}")
    relay: int = setting(doc="Relay index on the board (EEPROM relay map order)", ge=0, le=7)
    fxo: str = setting("", doc="FXO port (carrier line) switched by this relay")
    fxs: str = setting("", doc="FXS port (analog phone) the line falls back to")


# list-valued fields (declared apart: their defaults are factories)
_SHUTDOWN_COMMAND = setting(
    doc="Command run at the point of no return (argv)",
    default_factory=lambda: ["systemctl", "poweroff"],
    check=argv_check,
)
_PAIRS = setting(
    doc="Lifeline relays and the ports they switch; empty means every relay of the board",
    default_factory=list,
)


@dataclass(frozen=True)
class PowerSection:
    ups_poll_interval: float = setting(
        1.0, doc="Seconds between UPS readings (NUT LIST VAR or Megatec Q1)", gt=0.05, le=60.0
    )
    ups_stale_after: float = setting(
        10.0, doc="UPS data older than this is stale: power state in doubt on mains; on "
        "battery it still counts as on battery, but its charge and runtime are no longer used",
        gt=0.0, le=600.0,
    )
    max_on_battery: float = setting(
        1800.0, doc="Seconds on battery after which the orderly shutdown starts whatever the "
        "UPS says (a UPS that stops answering or lies must not run the battery flat)",
        gt=0.0, le=86400.0,
    )
    rail_poll_interval: float = setting(
        0.05, doc="Seconds between input-rail (INA219) readings", gt=0.005, le=10.0
    )
    rail_min_volts: float = setting(
        10.8, doc="Input rail under this voltage means mains is lost", gt=0.0, le=60.0
    )
    rail_confirm_samples: int = setting(
        2, doc="Consecutive rail readings needed to change the mains verdict", ge=1, le=100
    )
    low_runtime: float = setting(
        300.0, doc="Battery runtime (s) under which the battery counts as low", ge=0.0, le=86400.0
    )
    low_charge: float = setting(
        15.0, doc="Battery charge (%) under which the battery counts as low", ge=0.0, le=100.0
    )
    lifeline_on: Literal["on_battery", "low_battery"] = setting(
        "on_battery",
        doc="When power policy engages the lifeline: at mains loss ('on_battery'), or only "
        "when the battery runs low ('low_battery': calls stay on the appliance meanwhile)",
    )
    telephony_check_interval: float = setting(
        1.0, doc="Seconds between telephonyd health checks", gt=0.0, le=60.0
    )
    telephony_timeout: float = setting(
        5.0, doc="Lifeline engages when telephonyd has not been healthy for this long",
        gt=0.0, le=600.0,
    )
    prepare_deadline: float = setting(
        30.0, doc="Seconds telephonyd has to close recordings and flush the database",
        gt=0.0, le=600.0,
    )
    shutdown_command: list[str] = _SHUTDOWN_COMMAND
    shutdown_command_timeout: float = setting(
        60.0, doc="Seconds the shutdown command may take", gt=0.0, le=600.0
    )
    ups_shutdown_return: bool = setting(
        False, doc="After the shutdown command, tell the UPS to cut output and restore on mains"
    )
    watchdog_interval: float = setting(
        1.0, doc="Seconds between hardware watchdog pets (keep well under its timeout)",
        gt=0.0, le=60.0,
    )
    loop_stall: float = setting(
        3.0, doc="powerd's loop counts as unhealthy (watchdog not petted) past this stall",
        gt=0.0, le=60.0,
    )
    relay_check_interval: float = setting(
        0.5, doc="Seconds between relay readback and hook checks", gt=0.0, le=60.0
    )
    temperature_alarm: float = setting(
        70.0, doc="Board temperature (°C) that raises an alarm", ge=0.0, le=125.0
    )
    lifeline_test_seconds: float = setting(
        10.0, doc="How long `power test-lifeline` holds the lifeline by default", gt=0.0, le=3600.0
    )
    pairs: list[LifelinePair] = _PAIRS
