"""IVR node figures (STAT "by IVR node"), from ``ivr_visits``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from appliance.stats.periods import Db, Grouping, TimeZone, bucket_sql, check_range, connection


@dataclass
class IvrFigures:
    visits: int = 0  # rows of ivr_visits
    calls: int = 0  # distinct calls that visited the node
    timeouts: int = 0  # result 'timeout'
    invalid: int = 0  # result 'invalid'
    results: dict[str, int] = field(default_factory=dict)  # every result (digit, branch) counted

    @property
    def timeout_rate(self) -> float | None:
        return self.timeouts / self.visits if self.visits else None

    def as_dict(self) -> dict[str, Any]:
        return {"visits": self.visits, "calls": self.calls, "timeouts": self.timeouts,
                "invalid": self.invalid, "timeout_rate": self.timeout_rate,
                "results": dict(self.results)}


IVR_FIGURE_NAMES = ("visits", "calls", "timeouts", "invalid", "timeout_rate", "results")


@dataclass(frozen=True)
class IvrRow:
    interval: str
    flow: str
    node: str
    figures: IvrFigures


def ivr_report(db: Db, start: float, end: float, *, by: Grouping | None = None,
               tz: TimeZone = "utc", flow: str | None = None) -> list[IvrRow]:
    """Visits per (interval, flow, node) for visits made in ``[start, end)``."""
    check_range(start, end)
    bucket = bucket_sql("at", by, tz)
    where_flow = " AND flow = ?" if flow is not None else ""
    args: list[Any] = [start, end, *([flow] if flow is not None else [])]
    sql = f"""
        SELECT {bucket} AS interval, flow, node, count(*), count(DISTINCT call_id),
          sum(result = 'timeout'), sum(result = 'invalid'),
          json_group_array(result)
        FROM ivr_visits WHERE at >= ? AND at < ?{where_flow}
        GROUP BY interval, flow, node ORDER BY interval, flow, node
    """
    rows: list[IvrRow] = []
    for interval, flow_name, node, visits, calls, timeouts, invalid, results in (
            connection(db).execute(sql, args)):
        counted: dict[str, int] = {}
        for result in json.loads(results):
            counted[result] = counted.get(result, 0) + 1
        rows.append(IvrRow(interval, flow_name, node,
                           IvrFigures(visits, calls, timeouts or 0, invalid or 0,
                                      dict(sorted(counted.items())))))
    return rows
