"""Toll-fraud guards (SEC-4, appliance/calls/tollguard.py), in virtual time."""

from __future__ import annotations

from typing import Any

import pytest

from appliance.calls.channel import Channel
from appliance.calls.outbound import OutboundRoute
from appliance.calls.technology import TechnologyRegistry, TrunkUnavailable
from appliance.calls.tollguard import (
    ClassOfService,
    NumberClass,
    OutboundBarred,
    OutboundMeter,
)
from appliance.config.load import load_config_text
from appliance.config.sections.calls import CLASSES
from appliance.runtime.clock import VirtualClock

POLICY = ClassOfService(
    international_prefixes=("00",), premium_prefixes=("0900", "00881"),
    default=NumberClass.NATIONAL,
    devices={"201": NumberClass.INTERNATIONAL, "sip:2001": NumberClass.INTERNAL},
    trunks={"fxo1": NumberClass.NATIONAL},
    canonical=lambda device: {"201": "fxs1", "2001": "sip:2001"}.get(device, device))


@pytest.mark.parametrize(("number", "kind"), [
    ("013812345678", NumberClass.NATIONAL), ("0044207946000", NumberClass.INTERNATIONAL),
    ("+44207946000", NumberClass.INTERNATIONAL), ("09001234", NumberClass.PREMIUM),
    ("00881234567", NumberClass.PREMIUM),  # an international premium number is premium
])
def test_numbers_fall_in_classes(number: str, kind: NumberClass) -> None:
    assert POLICY.classify(number) is kind


def test_the_configurations_class_names_are_the_guards() -> None:
    assert tuple(c.label for c in NumberClass) == CLASSES


def test_each_phone_calls_up_to_its_class_by_extension_or_by_name() -> None:
    POLICY.check("fxs1", "0044207946000")  # keyed "201": fxs1's extension
    with pytest.raises(OutboundBarred, match="premium number and fxs1 may call international"):
        POLICY.check("fxs1", "09001234")
    with pytest.raises(OutboundBarred, match="fxs2 may call national numbers at most"):
        POLICY.check("fxs2", "0044207946000")  # the default class
    with pytest.raises(OutboundBarred, match="no outside number") as refused:
        POLICY.check("sip:2001", "013812345678")
    assert refused.value.cause == 52  # outgoing calls barred


def test_the_configuration_names_classes_and_refuses_unknown_ones() -> None:
    config = load_config_text("""
[rig]
[[rig.ports]]
name = "fxs1"
kind = "fxs"
address = "sim:/tmp/fxs1.sock"
extension = "201"
[calls]
premium_prefixes = ["0900"]
classes = { "201" = "international" }
""")
    policy = ClassOfService.from_config(config.calls, lambda d: {"201": "fxs1"}.get(d, d))
    assert policy.class_of("fxs1") is NumberClass.INTERNATIONAL
    assert policy.class_of("fxs9") is NumberClass.NATIONAL  # default_class
    with pytest.raises(Exception, match=r"calls.classes.*'fxs9' is no phone"):
        load_config_text('[calls]\nclasses = { "fxs9" = "premium" }\n')
    with pytest.raises(Exception, match=r"calls.default_class"):
        load_config_text('[calls]\ndefault_class = "everything"\n')


class Leg(Channel):
    def answer(self) -> None: ...

    def play(self, prompt: str, *, loop: bool = False) -> None: ...

    def stop_play(self) -> None: ...

    def _release(self, cause: int) -> None: ...


class Trunks:
    """A technology with two lines that never run out."""

    name = "analog"
    leg_type = Leg

    def __init__(self) -> None:
        self.placed: list[tuple[str, str]] = []

    def trunks(self) -> list[str]:
        return ["fxo1", "fxo2"]

    def dial(self, trunk: str, number: str, caller_id: str, listener: Any) -> Channel:
        if trunk == "none":
            raise TrunkUnavailable("busy")
        self.placed.append((trunk, number))
        return Leg(f"{trunk}/{len(self.placed)}", dnis=number, trunk=trunk)

    def reaches(self, device: str) -> bool:
        return False

    def circuits(self) -> dict[str, dict[str, bool]]:
        return {}


def route_of(clock: VirtualClock, max_calls: int = 1000) -> tuple[OutboundRoute, Trunks]:
    registry = TechnologyRegistry()
    trunks = Trunks()
    registry.register(trunks)  # type: ignore[arg-type]
    route = OutboundRoute(registry, clock, ["analog"], max_calls=max_calls)
    route.policy = POLICY
    return route, trunks


def test_a_trunk_that_may_not_carry_the_number_is_passed_over() -> None:
    route, trunks = route_of(VirtualClock())
    route.dial("013812345678", "201", None)  # type: ignore[arg-type]
    route.dial("0044207946000", "201", None)  # type: ignore[arg-type]
    assert trunks.placed == [("fxo1", "013812345678"), ("fxo2", "0044207946000")]


def test_beyond_the_ceiling_outside_calls_are_refused_with_cause_34() -> None:
    clock = VirtualClock()
    route, trunks = route_of(clock, max_calls=2)
    first = route.dial("01381", "201", None)  # type: ignore[arg-type]
    route.dial("01382", "201", None)  # type: ignore[arg-type]
    refused = route.dial("01383", "201", None)  # type: ignore[arg-type]
    assert refused.name == "unrouted/01383" and len(trunks.placed) == 2
    first.hangup()
    assert route.dial("01384", "201", None).name.startswith("fxo")  # type: ignore[arg-type]


def test_the_minutes_alarm_rises_once_when_outbound_minutes_jump_and_clears() -> None:
    clock = VirtualClock()
    alarms: list[tuple[bool, float, int]] = []
    meter = OutboundMeter(clock, threshold_minutes=100,
                          on_alarm=lambda *args: alarms.append(args))
    legs = [Leg(f"fxo/{n}") for n in range(10)]
    for leg in legs:  # ten outside calls at once, the fraudster's pattern
        meter.seized(leg)
    clock.run_until(clock.monotonic() + 9 * 60)
    assert alarms == [] and meter.minutes() == pytest.approx(90.0)
    clock.run_until(clock.monotonic() + 2 * 60)  # 110 minutes: over 100
    assert [a[0] for a in alarms] == [True] and meter.status()["alarm"] is True
    for leg in legs:
        leg.hangup()
    clock.run_until(clock.monotonic() + 3600)  # an hour later the calls age out
    assert [a[0] for a in alarms] == [True, False] and meter.up() == 0
