"""The engine built from [media]: tone plan, busy detection and DTMF limits follow it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from appliance.config.sections.media import BUILTIN_TONE_PLANS, MediaSection
from appliance.config.validate import Problem, build
from appliance.media.dsp.dtmf import dtmf_generate
from appliance.media.events import DtmfDigit, MediaEvent, ToneDetected
from appliance.media.plan import cpt_profile, engine_from_config


@pytest.mark.parametrize("country", ["cn", "itu", "us"])
def test_each_plans_own_busy_and_congestion_are_recognised(country: str) -> None:
    problems: list[Problem] = []
    section = build(MediaSection, {"tone_plan": country}, ("media",), problems)
    events: list[MediaEvent] = []
    engine = engine_from_config(section, events.append)
    sender, line = engine.register("exchange"), engine.register("fxo")
    engine.bridge(sender, line)
    engine.enable_cpt(line)
    for tone in ("busy", "congestion"):
        engine.play_tone(sender, tone)
        for _ in range(200):
            # the exchange's output is what the FXO port receives
            line.write_input(sender.read_output())
            engine.tick()
        engine.stop_playback(sender)
        for _ in range(20):
            engine.tick()
    heard = [e.tone for e in events if isinstance(e, ToneDetected) and e.channel is line]
    assert heard[:2] == ["busy", "reorder"]


def test_profile_follows_the_plan_and_rejects_continuous_busy() -> None:
    profile = cpt_profile(BUILTIN_TONE_PLANS["us"])
    assert profile.tone_hz == (480.0, 620.0)
    assert profile.busy_ms == (500, 500) and profile.reorder_ms == (250, 250)
    broken = dataclasses.replace(BUILTIN_TONE_PLANS["cn"], busy="450")
    with pytest.raises(ValueError, match="not an on/off cadence"):
        cpt_profile(broken)


def _digits_heard(section: MediaSection, dbm0: float) -> list[str]:
    engine = engine_from_config(section)
    events: list[MediaEvent] = []
    engine.on_event = events.append
    handle = engine.register("caller")
    engine.enable_dtmf(handle)
    burst = dtmf_generate("3", low_dbm0=dbm0, high_dbm0=dbm0)
    for frame in np.concatenate([burst, np.zeros(800, np.int16)]).reshape(-1, 160):
        handle.write_input(frame)
        engine.tick()
    return [e.digit for e in events if isinstance(e, DtmfDigit)]


def test_dtmf_limits_from_config_reach_the_detector() -> None:
    default = build(MediaSection, {}, ("media",), [])
    strict = build(MediaSection, {"dtmf": {"min_level_dbm0": -20.0}}, ("media",), [])
    assert _digits_heard(default, -25.0) == ["3"]
    assert _digits_heard(strict, -25.0) == []
    assert _digits_heard(strict, -15.0) == ["3"]
