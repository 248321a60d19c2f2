"""Queue figures STAT-Q1..Q11, computed from ``queue_log`` only (docs/statistics.md).

Every call is attributed to the interval in which it *entered* the queue. The
outcome events carry the wait that preceded them (docs/database.md), so the
entry time is recovered as ``at - wait`` (``at - wait - talk`` for the events
written when an answered call ends) without joining back to ENTERQUEUE.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from appliance.stats.errors import StatsError
from appliance.stats.periods import (
    HORIZON_S,
    TOTAL,
    Db,
    Grouping,
    TimeZone,
    bucket_sql,
    check_range,
    connection,
    placeholders,
)

DEFAULT_SL_SECONDS = 20.0
DEFAULT_SHORT_ABANDON = 5.0

# Each event becomes a small integer kind once per row (string comparisons are what a
# report over millions of events spends its time on); its wait (enter -> event) and
# talk (answer -> end) come from the data fields docs/database.md gives for it.
_KIND = (
    "CASE event WHEN 'ENTERQUEUE' THEN 0 WHEN 'CONNECT' THEN 1 "
    "WHEN 'COMPLETECALLER' THEN 2 WHEN 'COMPLETEAGENT' THEN 2 "
    "WHEN 'ABANDON' THEN 4 WHEN 'RINGNOANSWER' THEN 9 "
    "WHEN 'BLINDTRANSFER' THEN 3 WHEN 'ATTENDEDTRANSFER' THEN 3 "
    "WHEN 'EXITWITHTIMEOUT' THEN 5 WHEN 'EXITWITHKEY' THEN 6 WHEN 'EXITEMPTY' THEN 7 "
    "WHEN 'OVERFLOW' THEN 8 END"
)
_WAIT = (
    "CAST(CASE k WHEN 0 THEN 0 WHEN 1 THEN data1 WHEN 2 THEN data1 WHEN 3 THEN data2 "
    "WHEN 6 THEN data4 WHEN 9 THEN 0 ELSE data3 END AS REAL)"
)
_TALK = "CAST(CASE k WHEN 2 THEN data2 WHEN 3 THEN data3 ELSE 0 END AS REAL)"
_EVENTS = (
    "ENTERQUEUE", "CONNECT", "COMPLETEAGENT", "COMPLETECALLER", "BLINDTRANSFER",
    "ATTENDEDTRANSFER", "ABANDON", "EXITWITHTIMEOUT", "EXITWITHKEY", "EXITEMPTY", "OVERFLOW",
    "RINGNOANSWER",
)


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


@dataclass
class QueueFigures:
    """One queue's figures over one interval. Names are documented in docs/statistics.md."""

    offered: int = 0  # STAT-Q1 ENTERQUEUE
    answered: int = 0  # STAT-Q4 CONNECT
    answered_in_sl: int = 0  # CONNECT with wait <= service-level threshold
    abandoned: int = 0  # STAT-Q7 every ABANDON
    abandoned_counted: int = 0  # STAT-Q7 ABANDON with wait >= short-abandon threshold
    timeouts: int = 0  # EXITWITHTIMEOUT
    exit_key: int = 0  # EXITWITHKEY
    exit_empty: int = 0  # EXITEMPTY
    overflowed: int = 0  # OVERFLOW
    rona: int = 0  # STAT-Q10 RINGNOANSWER
    completed: int = 0  # answered calls that ended (COMPLETE*, *TRANSFER)
    wait_answered_s: float = 0.0  # sum of enter -> answer of answered calls
    ring_answered_s: float = 0.0  # sum of ringing -> pick-up of answered calls
    wait_abandoned_s: float = 0.0  # sum of abandoned calls' waits
    talk_s: float = 0.0  # sum of talk of ended answered calls
    longest_wait: float = 0.0  # STAT-Q3 over answered, abandoned and every other exit
    sl_seconds: float = DEFAULT_SL_SECONDS
    short_abandon: float = DEFAULT_SHORT_ABANDON

    @property
    def asa(self) -> float | None:
        """STAT-Q2 average wait of answered calls, queue entry -> agent answer."""
        return _ratio(self.wait_answered_s, self.answered)

    @property
    def speed_of_answer(self) -> float | None:
        """STAT-Q6 average agent ringing -> pick-up of answered calls."""
        return _ratio(self.ring_answered_s, self.answered)

    @property
    def avg_talk(self) -> float | None:
        """STAT-Q5 average talk time of answered calls that ended."""
        return _ratio(self.talk_s, self.completed)

    @property
    def abandon_rate(self) -> float | None:
        """STAT-Q8 counted abandons / offered."""
        return _ratio(self.abandoned_counted, self.offered)

    @property
    def avg_abandon_time(self) -> float | None:
        """STAT-Q9 sum of abandoned calls' waits / abandons (all abandons)."""
        return _ratio(self.wait_abandoned_s, self.abandoned)

    @property
    def service_level(self) -> float | None:
        """STAT-Q11 answered within X seconds / offered (every other outcome stays in offered)."""
        return _ratio(self.answered_in_sl, self.offered)

    def add(self, other: QueueFigures) -> None:
        """Add another interval's or queue's figures into this one (for totals)."""
        for f in fields(self):
            if f.name in ("sl_seconds", "short_abandon"):
                continue
            if f.name == "longest_wait":
                self.longest_wait = max(self.longest_wait, other.longest_wait)
            else:
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def as_dict(self) -> dict[str, Any]:
        """Every figure by its documented name (rates as fractions 0..1, times in seconds)."""
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in ("asa", "speed_of_answer", "avg_talk", "abandon_rate", "avg_abandon_time",
                     "service_level"):
            out[name] = getattr(self, name)
        return out


_COUNT_FIELDS = ("offered", "answered", "answered_in_sl", "abandoned", "abandoned_counted",
                 "timeouts", "exit_key", "exit_empty", "overflowed", "rona", "completed")
_SUM_FIELDS = ("wait_answered_s", "ring_answered_s", "wait_abandoned_s", "talk_s", "longest_wait")

FIGURE_NAMES: tuple[str, ...] = (
    "offered", "answered", "abandoned", "abandoned_counted", "abandon_rate", "service_level",
    "asa", "avg_talk", "longest_wait", "avg_abandon_time", "rona", "speed_of_answer",
    "answered_in_sl", "timeouts", "exit_key", "exit_empty", "overflowed", "completed",
)


@dataclass(frozen=True)
class QueueRow:
    interval: str
    queue: str
    figures: QueueFigures = field(default_factory=QueueFigures)


def _threshold_sql(name: str, value: float | Mapping[str, float], default: float,
                   params: list[Any]) -> str:
    """SQL for a per-queue threshold: one number, or a table queue -> number."""
    if isinstance(value, Mapping):
        for queue, seconds in value.items():
            _check_threshold(name, seconds)
            params.extend([queue, float(seconds)])
        cases = " ".join("WHEN ? THEN ?" for _ in value)
        params.append(default)
        return f"(CASE queue {cases} ELSE ? END)" if value else "?"
    _check_threshold(name, value)
    params.append(float(value))
    return "?"


def _check_threshold(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise StatsError(f"{name} must be a number of seconds >= 0, got {value!r}")


def queue_report(
    db: Db,
    start: float,
    end: float,
    *,
    queues: Iterable[str] | None = None,
    by: Grouping | None = None,
    tz: TimeZone = "utc",
    sl_seconds: float | Mapping[str, float] = DEFAULT_SL_SECONDS,
    short_abandon: float | Mapping[str, float] = DEFAULT_SHORT_ABANDON,
    sl_default: float = DEFAULT_SL_SECONDS,
    short_abandon_default: float = DEFAULT_SHORT_ABANDON,
) -> list[QueueRow]:
    """Queue figures per (interval, queue) for calls that entered in ``[start, end)``.

    ``sl_seconds`` and ``short_abandon`` are one number or a mapping queue -> seconds
    (queues missing from a mapping get ``sl_default`` / ``short_abandon_default``).
    """
    check_range(start, end)
    conn = connection(db)
    params: list[Any] = []
    _check_threshold("service-level threshold", sl_default)
    _check_threshold("short-abandon threshold", short_abandon_default)
    sa_default = short_abandon_default
    sl_expr = _threshold_sql("service-level threshold", sl_seconds, sl_default, params)
    sl_params = list(params)
    params.clear()
    sa_expr = _threshold_sql("short-abandon threshold", short_abandon, sa_default, params)
    sa_params = list(params)
    queue_list = sorted(set(queues)) if queues is not None else None
    # the level-5 covering index (queue, at, event, agent, data1..data4) answers this without
    # touching the table; unary + on event keeps the planner off the (event, at) index
    where_queue = f" AND queue IN ({placeholders(queue_list)})" if queue_list else ""
    bucket = bucket_sql("enter", by, tz)
    sql = f"""
        SELECT queue, {bucket} AS interval,
          sum(k = 0), sum(k = 1), sum(k = 1 AND wait <= {sl_expr}),
          sum(k = 4), sum(k = 4 AND wait >= {sa_expr}),
          sum(k = 5), sum(k = 6), sum(k = 7), sum(k = 8), sum(k = 9), sum(k IN (2, 3)),
          total(CASE WHEN k = 1 THEN wait END),
          total(CASE WHEN k = 1 THEN CAST(data3 AS REAL) END),
          total(CASE WHEN k = 4 THEN wait END),
          total(talk),
          max(CASE WHEN k = 1 OR k BETWEEN 4 AND 8 THEN wait ELSE 0.0 END)
        FROM (
          SELECT queue, k, data3, wait, talk, at - wait - talk AS enter FROM (
            SELECT queue, k, data3, at, {_WAIT} AS wait, {_TALK} AS talk FROM (
              SELECT queue, at, data1, data2, data3, data4, {_KIND} AS k
              FROM queue_log
              WHERE at >= ? AND at < ? AND +event IN ({placeholders(list(_EVENTS))}){where_queue}
            )
            LIMIT -1  -- not flattened: wait and talk are computed once per event, not per use
          )
        )
        WHERE enter >= ? AND enter < ?
        GROUP BY queue, interval
        ORDER BY interval, queue
    """
    args: list[Any] = [*sl_params, *sa_params, start, end + HORIZON_S, *_EVENTS]
    args.extend(queue_list or [])
    args.extend([start, end])
    rows: list[QueueRow] = []
    for record in conn.execute(sql, args):
        queue, interval = record[0], record[1]
        counts = [int(v or 0) for v in record[2:13]]
        sums = [float(v or 0.0) for v in record[13:18]]
        figures = QueueFigures(sl_seconds=_lookup(sl_seconds, queue, sl_default),
                               short_abandon=_lookup(short_abandon, queue, sa_default))
        for name, value in zip(_COUNT_FIELDS + _SUM_FIELDS, [*counts, *sums], strict=True):
            setattr(figures, name, value)
        rows.append(QueueRow(interval, queue, figures))
    return rows


def _lookup(value: float | Mapping[str, float], queue: str, default: float) -> float:
    if isinstance(value, Mapping):
        return float(value.get(queue, default))
    return float(value)


def queue_stats(
    db: Db,
    start: float,
    end: float,
    queues: Iterable[str] | None = None,
    sl_seconds: float | Mapping[str, float] = DEFAULT_SL_SECONDS,
    short_abandon: float | Mapping[str, float] = DEFAULT_SHORT_ABANDON,
) -> dict[str, QueueFigures]:
    """Figures per queue for calls that entered in ``[start, end)`` (the traffic simulator's API).

    Queues asked for by name but without traffic appear with zero figures.
    """
    result = {
        row.queue: row.figures
        for row in queue_report(db, start, end, queues=queues, sl_seconds=sl_seconds,
                                short_abandon=short_abandon)
    }
    for queue in queues or ():
        result.setdefault(queue, QueueFigures(
            sl_seconds=_lookup(sl_seconds, queue, DEFAULT_SL_SECONDS),
            short_abandon=_lookup(short_abandon, queue, DEFAULT_SHORT_ABANDON),
        ))
    return dict(sorted(result.items()))


def totals(rows: Iterable[QueueRow]) -> dict[str, QueueFigures]:
    """Sum rows per interval over all queues (the "all queues" line of a report)."""
    out: dict[str, QueueFigures] = {}
    for row in rows:
        out.setdefault(row.interval, QueueFigures(sl_seconds=row.figures.sl_seconds,
                                                  short_abandon=row.figures.short_abandon))
        out[row.interval].add(row.figures)
    return out


__all__ = ["FIGURE_NAMES", "TOTAL", "QueueFigures", "QueueRow", "queue_report", "queue_stats",
           "totals"]
