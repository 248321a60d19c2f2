"""``[stats]``: thresholds of the queue statistics (STAT-Q7, STAT-Q11; docs/statistics.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from appliance.config.validate import setting


@dataclass(frozen=True)
class QueueThresholds:
    sl_seconds: float = setting(
        20.0, doc="Service level: answered within this many seconds", ge=0, le=3600
    )
    short_abandon: float = setting(
        5.0, doc="Abandons sooner than this are not counted", ge=0, le=600
    )


@dataclass(frozen=True)
class StatsSection:
    sl_seconds: float = setting(20.0, doc="Default service-level threshold, seconds", ge=0, le=3600)
    short_abandon: float = setting(
        5.0, doc="Default short-abandon threshold, seconds", ge=0, le=600
    )
    queues: dict[str, QueueThresholds] = setting(
        doc="Thresholds per queue", default_factory=dict
    )
    timezone: Literal["utc", "local"] = setting(
        "local", doc="Time zone of report intervals and of --from/--to without an offset"
    )

    def sl_table(self) -> dict[str, float]:
        return {name: q.sl_seconds for name, q in self.queues.items()}

    def short_abandon_table(self) -> dict[str, float]:
        return {name: q.short_abandon for name, q in self.queues.items()}
