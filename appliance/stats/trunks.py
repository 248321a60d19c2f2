"""Trunk figures (STAT "by trunk") and CDR detail/export (STAT-D2), from ``cdr``."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TextIO

import numpy as np

from appliance.stats.periods import (
    HORIZON_S,
    Db,
    Grouping,
    TimeZone,
    bucket_sql,
    check_range,
    connection,
    intervals,
)

_FAILED = "('BUSY','FAILED','REJECTED','NO ANSWER')"


@dataclass
class TrunkFigures:
    calls: int = 0  # CDRs that started in the interval on this trunk
    inbound: int = 0
    outbound: int = 0
    answered: int = 0  # answer IS NOT NULL
    failed: int = 0  # disposition BUSY, FAILED, REJECTED or NO ANSWER
    duration_s: float = 0.0  # sum of end - start (channel holding time)
    billsec_s: float = 0.0  # sum of end - answer
    interval_s: float = 0.0  # length of the interval
    peak_busy: int = 0  # most channels busy at once (whole report range)

    @property
    def erlangs(self) -> float | None:
        """Offered traffic: channel holding time / interval length (ITU-T E.600 §2.1 traffic)."""
        return self.duration_s / self.interval_s if self.interval_s else None

    @property
    def avg_duration(self) -> float | None:
        return self.duration_s / self.calls if self.calls else None

    @property
    def answer_ratio(self) -> float | None:
        return self.answered / self.calls if self.calls else None

    def as_dict(self) -> dict[str, Any]:
        return {"calls": self.calls, "inbound": self.inbound, "outbound": self.outbound,
                "answered": self.answered, "failed": self.failed, "duration_s": self.duration_s,
                "billsec_s": self.billsec_s, "erlangs": self.erlangs,
                "avg_duration": self.avg_duration, "answer_ratio": self.answer_ratio,
                "peak_busy": self.peak_busy}


TRUNK_FIGURE_NAMES = ("calls", "inbound", "outbound", "answered", "failed", "answer_ratio",
                      "avg_duration", "erlangs", "peak_busy")


@dataclass(frozen=True)
class TrunkRow:
    interval: str
    trunk: str
    figures: TrunkFigures


def trunk_report(db: Db, start: float, end: float, *, by: Grouping | None = None,
                 tz: TimeZone = "utc") -> list[TrunkRow]:
    """Calls per (interval, trunk) for CDRs that started in ``[start, end)``; internal calls
    (no trunk) are left out."""
    check_range(start, end)
    conn = connection(db)
    lengths = {label: hi - lo for label, lo, hi in intervals(start, end, by, tz)}
    peaks = _peaks(db, start, end)
    sql = f"""
        SELECT {bucket_sql("start", by, tz)} AS interval, trunk, count(*),
          sum(direction = 'inbound'), sum(direction = 'outbound'), count(answer),
          sum(disposition IN {_FAILED}), total(duration), total(billsec)
        FROM cdr WHERE start >= ? AND start < ? AND trunk != ''
        GROUP BY interval, trunk ORDER BY interval, trunk
    """
    rows: list[TrunkRow] = []
    for interval, trunk, calls, inbound, outbound, answered, failed, duration, billsec in (
            conn.execute(sql, [start, end])):
        rows.append(TrunkRow(interval, trunk, TrunkFigures(
            calls, inbound or 0, outbound or 0, answered, failed or 0, duration, billsec,
            lengths.get(interval, end - start), peaks.get(trunk, 0))))
    return rows


def _peaks(db: Db, start: float, end: float) -> dict[str, int]:
    """Most simultaneous calls per trunk in the range (MON-1 history): a sweep over the calls'
    starts (+1) and ends (-1); at equal times an end is counted before a start. Calls that
    started more than HORIZON_S before the range are not looked for."""
    rows = connection(db).execute(
        "SELECT trunk, start, end FROM cdr WHERE start >= ? AND start < ? AND end > ? "
        "AND trunk != ''", [start - HORIZON_S, end, start]).fetchall()
    by_trunk: dict[str, list[tuple[float, float]]] = {}
    for trunk, began, ended in rows:
        by_trunk.setdefault(trunk, []).append((max(began, start), min(ended, end)))
    peaks: dict[str, int] = {}
    for trunk, calls in by_trunk.items():
        spans = np.asarray(calls, dtype=np.float64)
        times = np.concatenate([spans[:, 0], spans[:, 1]])
        steps = np.concatenate([np.ones(len(spans), np.int64), -np.ones(len(spans), np.int64)])
        order = np.lexsort((steps, times))
        peaks[trunk] = int(np.cumsum(steps[order]).max())
    return peaks


CDR_COLUMNS = ("call_id", "direction", "trunk", "channel", "caller", "caller_name",
               "presentation", "callee", "start", "answer", "end", "duration", "billsec",
               "disposition", "cause", "queue", "agent", "ivr_path", "satisfaction", "resolved")


def cdr_rows(db: Db, start: float, end: float, *, queue: str | None = None,
             agent: str | None = None, trunk: str | None = None) -> Iterator[dict[str, Any]]:
    """STAT-D2 call detail records that started in ``[start, end)``, oldest first."""
    check_range(start, end)
    clauses = ["start >= ?", "start < ?"]
    args: list[Any] = [start, end]
    for column, value in (("queue", queue), ("agent", agent), ("trunk", trunk)):
        if value is not None:
            clauses.append(f"{column} = ?")
            args.append(value)
    cursor = connection(db).execute(
        f"SELECT {', '.join(CDR_COLUMNS)} FROM cdr WHERE {' AND '.join(clauses)} "
        f"ORDER BY start, id", args)
    for row in cursor:
        yield dict(zip(CDR_COLUMNS, row, strict=True))


def write_cdr_csv(out: TextIO, rows: Iterator[dict[str, Any]]) -> int:
    """CDRs as CSV with a header line (RFC 4180); returns the number of records."""
    writer = csv.DictWriter(out, fieldnames=list(CDR_COLUMNS), lineterminator="\r\n")
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
        count += 1
    return count
