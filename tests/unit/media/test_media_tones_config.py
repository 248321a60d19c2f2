"""Tone descriptions, the built-in tone plans and the [media] configuration table."""

from __future__ import annotations

import numpy as np
import pytest

from appliance.config.sections.media import BUILTIN_TONE_PLANS, MediaSection
from appliance.config.validate import Problem, build
from appliance.media.dsp.levels import power_to_dbm0, sine_peak
from appliance.media.dsp.tones import ToneSpecError, parse_tone, render_cycle


def test_parse_cadenced_and_continuous_tones() -> None:
    busy = parse_tone("480+620/500,0/500")
    assert busy.frequencies == (480.0, 620.0)
    assert busy.cadence_ms == ((True, 500), (False, 500))
    dial = parse_tone("350+440")
    assert dial.continuous and dial.cadence_ms == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("450/", "expected"),
        ("450/350,0/0", "zero duration"),
        ("4500/100", "4000 Hz"),
        ("450,0/100", "continuous"),
        ("abc", "expected"),
    ],
)
def test_bad_tone_descriptions_name_the_fault(text: str, message: str) -> None:
    with pytest.raises(ToneSpecError, match=message):
        parse_tone(text)


def test_render_cycle_length_and_level() -> None:
    cycle = render_cycle(parse_tone("450/350,0/350"), -10.0)
    assert len(cycle) == 5600 and not cycle[2800:].any()
    on = cycle[:2800].astype(float)
    assert power_to_dbm0(float(np.mean(on**2))) == pytest.approx(-10.0, abs=0.05)
    assert np.abs(on).max() == pytest.approx(sine_peak(-10.0), rel=0.01)


def test_every_builtin_plan_has_every_tone_and_parses() -> None:
    for name, plan in BUILTIN_TONE_PLANS.items():
        tones = plan.tones()
        assert set(tones) == {
            "dial",
            "ringback",
            "busy",
            "congestion",
            "call_waiting",
            "special_information",
        }, name
        for text in tones.values():
            parse_tone(text)
    assert parse_tone(BUILTIN_TONE_PLANS["cn"].busy).frequencies == (450.0,)
    assert parse_tone(BUILTIN_TONE_PLANS["itu"].dial).frequencies == (425.0,)
    assert parse_tone(BUILTIN_TONE_PLANS["us"].dial).frequencies == (350.0, 440.0)


def test_media_section_defaults_to_the_china_plan() -> None:
    problems: list[Problem] = []
    section = build(MediaSection, {}, ("media",), problems)
    assert problems == []
    assert section.plan() == BUILTIN_TONE_PLANS["cn"]
    assert section.dtmf.max_normal_twist_db == 4.0 and section.dtmf.max_reverse_twist_db == 8.0


def test_custom_plan_and_errors_with_key_paths() -> None:
    custom = {
        "dial": "425",
        "ringback": "425/1000,0/4000",
        "busy": "425/480,0/480",
        "congestion": "425/240,0/240",
        "call_waiting": "425/200,0/200",
        "special_information": "900/330,0/100",
    }
    problems: list[Problem] = []
    section = build(
        MediaSection, {"tone_plan": "de", "tone_plans": {"de": custom}}, ("media",), problems
    )
    assert problems == [] and section.plan().busy == "425/480,0/480"
    bad = {**custom, "busy": "425/"}
    problems = []
    build(
        MediaSection,
        {"tone_plans": {"x": bad}, "dtmf": {"max_deviation": 0.05}},
        ("media",),
        problems,
    )
    paths = {p.path for p in problems}
    assert ("media", "tone_plans", "x", "busy") in paths
    assert ("media", "dtmf", "max_deviation") in paths
    with pytest.raises(ValueError, match="not a known plan"):
        build(MediaSection, {"tone_plan": "zz"}, ("media",), []).plan()
