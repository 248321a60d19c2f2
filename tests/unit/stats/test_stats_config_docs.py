"""[stats] and [recording] tables validate with clear key paths; every figure is documented."""

from __future__ import annotations

from pathlib import Path

from appliance.config.sections.recording import RecordingSection
from appliance.config.sections.stats import StatsSection
from appliance.config.validate import Problem, build
from appliance.stats.agents import AgentFigures
from appliance.stats.ivr import IVR_FIGURE_NAMES
from appliance.stats.queues import QueueFigures
from appliance.stats.trunks import TRUNK_FIGURE_NAMES

DOCS = Path(__file__).resolve().parents[3] / "docs"


def test_stats_section_thresholds_per_queue() -> None:
    problems: list[Problem] = []
    section = build(StatsSection, {"sl_seconds": 15, "queues": {"sales": {"sl_seconds": 30}}},
                    ("stats",), problems)
    assert problems == []
    assert section.sl_table() == {"sales": 30.0}
    assert section.short_abandon_table() == {"sales": 5.0}
    build(StatsSection, {"sl_seconds": -1, "queues": {"x": {"short_abandon": "5"}},
                         "timezone": "mars"}, ("stats",), problems)
    assert sorted(p.path for p in problems) == [
        ("stats", "queues", "x", "short_abandon"), ("stats", "sl_seconds"),
        ("stats", "timezone")]


def test_recording_section_rejects_bad_values_by_key() -> None:
    problems: list[Problem] = []
    section = build(RecordingSection, {"policy": "all", "encoding": "alaw", "channels": "mono",
                                       "queue_retention": {"sales": {"max_age_days": 90}}},
                    ("recording",), problems)
    assert problems == [] and section.queue_retention["sales"].max_age_days == 90
    build(RecordingSection, {"policy": "some", "numbers": ["06[0-9"], "sync_interval": 0,
                             "on_demand_code": "*1a"}, ("recording",), problems)
    assert sorted(p.path[-1] for p in problems) == [
        "numbers", "on_demand_code", "policy", "sync_interval"]


def test_every_figure_name_is_documented() -> None:
    text = (DOCS / "statistics.md").read_text()
    names = [*QueueFigures().as_dict(), *AgentFigures().as_dict(), *IVR_FIGURE_NAMES,
             *TRUNK_FIGURE_NAMES]
    missing = [n for n in names if f"`{n}`" not in text]
    assert missing == []
