"""The power policy: a state machine from what the UPS and the input rail say.

=================  ==========================================  =================
from               on                                          to
=================  ==========================================  =================
mains              mains lost (rail under limit, or UPS OB)    on_battery
on_battery         mains back (UPS OL and rail up)             mains
on_battery         runtime < low_runtime, charge < low_charge  low_battery
                   or LB, or on battery for max_on_battery
any but shutdown   FSD (NUT: forced shutdown, latched)         low_battery
low_battery        mains back before the point of no return    mains
                   (never after FSD)
low_battery        telephonyd acknowledged, or its deadline    shutdown
                   passed: the point of no return
=================  ==========================================  =================

``low_battery`` is where the orderly shutdown runs (PWR-2): new calls stop,
the lifeline engages, telephonyd closes recordings and flushes the database.
``shutdown`` is final. The machine is pure: :meth:`PowerPolicy.observe` takes
a :class:`PowerInputs` and returns the transition, if any; the service acts.

When the power situation is in doubt (UPS data stale and the rail unreadable)
the verdict is ``None``: the state stays, and the service holds the lifeline.
On battery there is no doubt: the service counts stale UPS data as on battery
(a UPS that lies or falls silent during an outage must not keep the box
running until the battery is flat), and the time-on-battery limit starts the
orderly shutdown whatever the charge and runtime say.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class PowerState(enum.StrEnum):
    MAINS = "mains"
    ON_BATTERY = "on_battery"
    LOW_BATTERY = "low_battery"
    SHUTDOWN = "shutdown"


@dataclass(frozen=True)
class PowerInputs:
    """One look at the power situation."""

    rail_ok: bool | None = None  # None: INA219 unreadable or not fitted
    ups_online: bool | None = None  # None: UPS data stale
    ups_on_battery: bool = False
    ups_testing: bool = False  # CAL: a battery test puts the UPS on battery on purpose
    low_battery_flag: bool = False
    fsd: bool = False
    charge: float | None = None
    runtime: float | None = None
    on_battery_for: float | None = None  # seconds since mains was lost, None on mains

    def mains_ok(self) -> bool | None:
        """True/False when known; None when in doubt. The rail sees a loss first."""
        if self.rail_ok is False:
            return False
        if self.ups_on_battery and not (self.ups_testing and self.rail_ok):
            return False
        if self.rail_ok is None and self.ups_online is None:
            return None
        return True


@dataclass(frozen=True)
class Transition:
    state: PowerState
    previous: PowerState
    reason: str
    detail: dict[str, object] = field(default_factory=dict)


@dataclass
class PowerPolicy:
    low_runtime: float = 300.0
    low_charge: float = 15.0
    max_on_battery: float = 1800.0
    state: PowerState = PowerState.MAINS
    fsd_latched: bool = False

    def _to(self, state: PowerState, reason: str, inputs: PowerInputs) -> Transition:
        detail: dict[str, object] = {
            "charge": inputs.charge, "runtime": inputs.runtime, "rail_ok": inputs.rail_ok,
            "ups_online": inputs.ups_online, "on_battery_for": inputs.on_battery_for,
        }
        transition = Transition(state, self.state, reason, detail)
        self.state = state
        return transition

    def battery_low(self, inputs: PowerInputs) -> str | None:
        if inputs.low_battery_flag:
            return "ups-low-battery"
        if inputs.runtime is not None and inputs.runtime < self.low_runtime:
            return "runtime-under-threshold"
        if inputs.charge is not None and inputs.charge < self.low_charge:
            return "charge-under-threshold"
        if inputs.on_battery_for is not None and inputs.on_battery_for >= self.max_on_battery:
            return "time-on-battery-limit"
        return None

    def observe(self, inputs: PowerInputs) -> Transition | None:
        if self.state is PowerState.SHUTDOWN:
            return None
        if inputs.fsd and not self.fsd_latched:
            self.fsd_latched = True
            if self.state is not PowerState.LOW_BATTERY:
                return self._to(PowerState.LOW_BATTERY, "fsd", inputs)
        mains = inputs.mains_ok()
        if mains is None:
            return None
        if self.state is PowerState.MAINS:
            if not mains:
                reason = "input-rail-lost" if inputs.rail_ok is False else "ups-on-battery"
                return self._to(PowerState.ON_BATTERY, reason, inputs)
            return None
        if self.state is PowerState.ON_BATTERY:
            if mains:
                return self._to(PowerState.MAINS, "mains-restored", inputs)
            low = self.battery_low(inputs)
            if low:
                return self._to(PowerState.LOW_BATTERY, low, inputs)
            return None
        # LOW_BATTERY: only mains coming back (without FSD) cancels
        if mains and not self.fsd_latched:
            return self._to(PowerState.MAINS, "mains-restored-before-shutdown", inputs)
        return None

    def point_of_no_return(self, reason: str) -> Transition:
        """telephonyd is ready (or its deadline passed): the shutdown command runs now."""
        if self.state is not PowerState.LOW_BATTERY:
            raise RuntimeError(f"point of no return from {self.state}, expected low_battery")
        return self._to(PowerState.SHUTDOWN, reason, PowerInputs())
