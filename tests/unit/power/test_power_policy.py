"""The power policy state machine, transition by transition."""

from __future__ import annotations

from dataclasses import replace

import pytest

from appliance.power.policy import PowerInputs, PowerPolicy, PowerState

ONLINE = PowerInputs(rail_ok=True, ups_online=True, charge=100, runtime=1800)
RAIL_LOST = PowerInputs(rail_ok=False, ups_online=True, charge=100, runtime=1800)
UPS_OB = PowerInputs(rail_ok=None, ups_online=False, ups_on_battery=True, charge=90, runtime=900)
LOW_RUNTIME = PowerInputs(rail_ok=False, ups_online=False, ups_on_battery=True, runtime=200)
LB = PowerInputs(rail_ok=False, ups_online=False, ups_on_battery=True, low_battery_flag=True)
FSD = PowerInputs(rail_ok=True, ups_online=True, fsd=True)
DOUBT = PowerInputs(rail_ok=None, ups_online=None)


def test_rail_loss_is_seen_before_the_ups() -> None:
    policy = PowerPolicy()
    t = policy.observe(RAIL_LOST)
    assert t is not None and t.state is PowerState.ON_BATTERY and t.reason == "input-rail-lost"


def test_ups_on_battery_alone_is_mains_loss() -> None:
    policy = PowerPolicy()
    t = policy.observe(UPS_OB)
    assert t is not None and t.reason == "ups-on-battery"


def test_battery_test_with_rail_up_is_not_mains_loss() -> None:
    policy = PowerPolicy()
    testing = PowerInputs(rail_ok=True, ups_online=False, ups_on_battery=True, ups_testing=True)
    assert policy.observe(testing) is None


@pytest.mark.parametrize(
    "inputs, reason",
    [(LOW_RUNTIME, "runtime-under-threshold"), (LB, "ups-low-battery"),
     (PowerInputs(rail_ok=False, charge=10.0), "charge-under-threshold")],
)
def test_low_battery_triggers(inputs: PowerInputs, reason: str) -> None:
    policy = PowerPolicy(low_runtime=300, low_charge=15)
    policy.observe(RAIL_LOST)
    t = policy.observe(inputs)
    assert t is not None and t.state is PowerState.LOW_BATTERY and t.reason == reason


def test_mains_back_before_point_of_no_return_cancels() -> None:
    policy = PowerPolicy()
    policy.observe(RAIL_LOST)
    policy.observe(LB)
    t = policy.observe(ONLINE)
    assert t is not None and t.state is PowerState.MAINS
    assert t.reason == "mains-restored-before-shutdown"


def test_after_point_of_no_return_nothing_changes() -> None:
    policy = PowerPolicy()
    policy.observe(RAIL_LOST)
    policy.observe(LB)
    t = policy.point_of_no_return("telephony-ready")
    assert t.state is PowerState.SHUTDOWN and t.previous is PowerState.LOW_BATTERY
    assert policy.observe(ONLINE) is None


def test_fsd_is_honoured_from_mains_and_latches() -> None:
    policy = PowerPolicy()
    t = policy.observe(FSD)
    assert t is not None and t.state is PowerState.LOW_BATTERY and t.reason == "fsd"
    assert policy.observe(ONLINE) is None  # mains back does not cancel a forced shutdown
    assert policy.state is PowerState.LOW_BATTERY


def test_doubt_keeps_the_state() -> None:
    policy = PowerPolicy()
    assert DOUBT.mains_ok() is None
    assert policy.observe(DOUBT) is None
    assert policy.state is PowerState.MAINS


def test_point_of_no_return_only_from_low_battery() -> None:
    with pytest.raises(RuntimeError, match="expected low_battery"):
        PowerPolicy().point_of_no_return("x")


def test_time_on_battery_limit_goes_low_whatever_the_charge_says() -> None:
    policy = PowerPolicy(max_on_battery=600.0)
    policy.observe(RAIL_LOST)
    full = PowerInputs(rail_ok=False, ups_online=False, ups_on_battery=True, charge=100,
                       runtime=3600)
    assert policy.observe(replace(full, on_battery_for=599.9)) is None
    t = policy.observe(replace(full, on_battery_for=600.0))
    assert t is not None and t.state is PowerState.LOW_BATTERY
    assert t.reason == "time-on-battery-limit" and t.detail["on_battery_for"] == 600.0
