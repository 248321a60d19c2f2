"""The [power] configuration section: defaults, limits and clear errors."""

from __future__ import annotations

from appliance.config.sections.power import PowerSection
from appliance.config.validate import Problem, build, section_doc


def load(data: dict[str, object]) -> tuple[PowerSection, list[Problem]]:
    problems: list[Problem] = []
    return build(PowerSection, data, ("power",), problems), problems


def test_defaults_are_valid_and_documented() -> None:
    section, problems = load({})
    assert problems == []
    assert section.shutdown_command == ["systemctl", "poweroff"]
    assert section.lifeline_on == "on_battery"
    assert section.pairs == []
    assert all(doc for _, _, doc in section_doc(PowerSection))


def test_relay_map_and_overrides() -> None:
    section, problems = load({
        "low_runtime": 240, "shutdown_command": ["/usr/local/sbin/halt-now", "--fast"],
        "pairs": [{"name": "line1", "relay": 0, "fxo": "fxo1", "fxs": "fxs1"}],
    })
    assert problems == []
    assert section.low_runtime == 240.0
    assert section.pairs[0].fxo == "fxo1" and section.pairs[0].relay == 0


def test_bad_values_are_reported_with_their_key() -> None:
    _, problems = load({
        "telephony_timeout": 0, "shutdown_command": [], "lifeline_on": "never",
        "pairs": [{"name": "x", "relay": 9}], "rail_min_volts": "12",
        "low_runtme": 5,
    })
    where = {".".join(str(p) for p in problem.path): problem.message for problem in problems}
    assert "greater than" in where["power.telephony_timeout"]
    assert "non-empty list" in where["power.shutdown_command"]
    assert "not allowed" in where["power.lifeline_on"]
    assert "above the maximum" in where["power.pairs.0.relay"]
    assert "expected a number" in where["power.rail_min_volts"]
    assert "did you mean 'low_runtime'" in where["power.low_runtme"]
