"""Build the engine and its detectors from the ``[media]`` configuration table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from appliance.config.sections.media import MediaSection, TonePlan
from appliance.media.dsp.cpt import CptProfile
from appliance.media.dsp.tones import parse_tone
from appliance.media.engine import MediaEngine
from appliance.media.events import MediaEvent


def _on_off(text: str, what: str) -> tuple[int, int]:
    cadence = parse_tone(text).cadence_ms
    if len(cadence) < 2 or not cadence[0][0] or cadence[1][0]:
        raise ValueError(f"{what} tone {text!r} is not an on/off cadence; cannot detect it")
    return cadence[0][1], cadence[1][1]


def cpt_profile(plan: TonePlan, **overrides: Any) -> CptProfile:
    """Busy/reorder detection matching a tone plan (FXO disconnect supervision)."""
    return CptProfile(
        tone_hz=parse_tone(plan.busy).frequencies,
        busy_ms=_on_off(plan.busy, "busy"),
        reorder_ms=_on_off(plan.congestion, "congestion"),
        **overrides,
    )


def engine_from_config(
    section: MediaSection, on_event: Callable[[MediaEvent], None] | None = None
) -> MediaEngine:
    """The daemon's engine: selected tone plan, DTMF limits, queue and tolerance."""
    plan = section.plan()
    return MediaEngine(
        section.capacity,
        tones=plan.tones(),
        tone_level_dbm0=plan.level_dbm0,
        cpt_profile=cpt_profile(plan),
        dtmf_options={
            "min_level_dbm0": section.dtmf.min_level_dbm0,
            "max_normal_twist_db": section.dtmf.max_normal_twist_db,
            "max_reverse_twist_db": section.dtmf.max_reverse_twist_db,
            "max_deviation": section.dtmf.max_deviation,
        },
        late_tolerance=section.late_tolerance_ms / 1000,
        recording_queue=section.recording_queue,
        on_event=on_event,
    )
