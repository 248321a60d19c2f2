"""``[recording]``: which calls are recorded, in what format, how long files are kept (REC-1..3)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from appliance.config.validate import setting


def _regex_list_check(value: object) -> str | None:
    if not isinstance(value, list):
        return "expected a list of regular expressions"
    for pattern in value:
        try:
            re.compile(str(pattern))
        except re.error as exc:
            return f"{pattern!r} is not a regular expression: {exc}"
    return None


@dataclass(frozen=True)
class RetentionRule:
    """Limits on one queue's recordings (or on all, as the default rule). 0 means no limit."""

    max_age_days: float = setting(0.0, doc="Delete recordings older than this many days", ge=0)
    max_mb: float = setting(
        0.0, doc="Delete the oldest recordings beyond this many megabytes", ge=0
    )


@dataclass(frozen=True)
class ScorecardItem:
    name: str = setting(
        doc="Question on the scorecard, e.g. 'greeting'", pattern=r"[A-Za-z0-9_ .-]{1,64}"
    )
    max_points: float = setting(doc="Highest score for this item", gt=0)
    weight: float = setting(1.0, doc="Weight of this item in the total percentage", gt=0)


@dataclass(frozen=True)
class Scorecard:
    items: list[ScorecardItem] = setting(
        doc="The questions of this scorecard", default_factory=list,
        check=lambda v: None if v else "a scorecard needs items",
    )


@dataclass(frozen=True)
class QaSection:
    sample_percent: float = setting(
        5.0, doc="Share of each agent's recordings sampled for QA", ge=0, le=100
    )
    period: Literal["day", "week", "month"] = setting("week", doc="Sampling period per agent")
    scorecards: dict[str, Scorecard] = setting(
        doc="Scorecards by name", default_factory=dict
    )


@dataclass(frozen=True)
class RecordingSection:
    policy: Literal["none", "all", "selected"] = setting(
        "selected",
        doc="'all' records every call, 'selected' those matched by queues, agents or numbers",
    )
    queues: list[str] = setting(
        doc="Record every call of these queues", default_factory=list
    )
    agents: list[str] = setting(
        doc="Record every call these agents handle", default_factory=list
    )
    numbers: list[str] = setting(
        doc="Record calls whose caller or dialled number matches one of these regular expressions",
        default_factory=list, check=_regex_list_check,
    )
    on_demand_code: str = setting(
        "*1", doc="Feature code that starts/stops recording during a call", pattern=r"[0-9*#]{1,8}"
    )
    pause_code: str = setting(
        "*2", doc="Feature code that pauses/resumes recording (sensitive data)",
        pattern=r"[0-9*#]{1,8}",
    )
    channels: Literal["stereo", "mono"] = setting(
        "stereo", doc="'stereo': caller left, agent right; 'mono': both mixed"
    )
    encoding: Literal["pcm16", "alaw"] = setting("pcm16", doc="16-bit linear PCM or G.711 A-law")
    header_interval: float = setting(
        1.0, doc="Seconds between rewrites of the WAV size fields", gt=0, le=60
    )
    sync_interval: float = setting(
        2.0, doc="Seconds between fdatasync; audio a power cut can lose at most", gt=0, le=300
    )
    min_free_mb: float = setting(
        100.0, doc="Stop new recordings (and raise an alarm) below this free space", ge=0
    )
    quota_mb: float = setting(0.0, doc="All recordings together; 0 means no quota", ge=0)
    retention: RetentionRule = setting(
        doc="Default limits", default_factory=RetentionRule
    )
    queue_retention: dict[str, RetentionRule] = setting(
        doc="Limits per queue, replacing the default for that queue", default_factory=dict
    )
    qa: QaSection = setting(
        doc="Quality assurance sampling and scorecards", default_factory=QaSection
    )
