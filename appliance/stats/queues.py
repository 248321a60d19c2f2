"""Queue figures STAT-Q1..Q11, computed from ``queue_log`` only (docs/statistics.md).

Every call is attributed to the interval in which it *entered* the queue. The
outcome events carry the wait that preceded them (docs/database.md), so the
entry time is recovered as ``at - wait`` (``at - wait - talk`` for the events
written when an answered call ends) without joining back to ENTERQUEUE.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from appliance.stats.cache import coverage
from appliance.stats.errors import StatsError
from appliance.stats.periods import (
    HORIZON_S,
    TOTAL,
    Db,
    Grouping,
    TimeZone,
    bucket_of,
    bucket_sql,
    check_range,
    connection,
    placeholders,
)
from appliance.stats.queue_sql import COUNT_FIELDS, HOUR_S, SUM_FIELDS, aggregates, event_rows

DEFAULT_SL_SECONDS = 20.0
DEFAULT_SHORT_ABANDON = 5.0


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
    use_cache: bool = True,
) -> list[QueueRow]:
    """Queue figures per (interval, queue) for calls that entered in ``[start, end)``.

    ``sl_seconds`` and ``short_abandon`` are one number or a mapping queue -> seconds
    (queues missing from a mapping get ``sl_default`` / ``short_abandon_default``).
    Over whole UTC hours, closed hours come from the hourly cache when it holds them
    (appliance.stats.cache) and give the same figures; ``use_cache=False`` reads only
    ``queue_log``.
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
    bucket = bucket_sql("enter", by, tz)  # checks by and tz
    fast = None
    if use_cache:
        fast = _cached_report(conn, start, end, queue_list, by, tz, sl_seconds, short_abandon,
                              sl_default, sa_default, (sl_expr, sl_params), (sa_expr, sa_params))
    if fast is not None:
        found = fast
    else:
        found = _raw(conn, bucket, start, end, start, end + HORIZON_S, queue_list,
                     (sl_expr, sl_params), (sa_expr, sa_params))
    rows: list[QueueRow] = []
    for (interval, queue), values in sorted(found.items()):
        figures = QueueFigures(sl_seconds=_lookup(sl_seconds, queue, sl_default),
                               short_abandon=_lookup(short_abandon, queue, sa_default))
        for name, value in zip(COUNT_FIELDS + SUM_FIELDS, values, strict=True):
            setattr(figures, name, value)
        rows.append(QueueRow(interval, queue, figures))
    return rows


_Sql = tuple[str, list[Any]]
_Sums = dict[tuple[str, str], list[Any]]


def _merge(into: _Sums, key: tuple[str, str], record: Iterable[Any]) -> None:
    values = list(record)
    counts = [int(v or 0) for v in values[:len(COUNT_FIELDS)]]
    sums = [float(v or 0.0) for v in values[len(COUNT_FIELDS):]]
    new = [*counts, *sums]
    old = into.get(key)
    if old is None:
        into[key] = new
        return
    for i in range(len(new) - 1):
        old[i] += new[i]
    old[-1] = max(old[-1], new[-1])  # longest_wait


def _raw(conn: sqlite3.Connection, bucket: str, start: float, end: float, at_from: float,
         at_to: float, queue_list: list[str] | None, sl: _Sql, sa: _Sql,
         into: _Sums | None = None) -> _Sums:
    """Figures from queue_log rows with ``at`` in ``[at_from, at_to)`` for calls that entered
    in ``[start, end)``, per (interval, queue)."""
    rows_sql, rows_args = event_rows(queue_list)
    sql = f"""
        SELECT {bucket} AS interval, queue, {aggregates(sl[0], sa[0])}
        FROM ({rows_sql})
        WHERE enter >= ? AND enter < ?
        GROUP BY queue, interval
    """
    args: list[Any] = [*sl[1], *sa[1], at_from, at_to, *rows_args, start, end]
    out: _Sums = {} if into is None else into
    for record in conn.execute(sql, args):
        _merge(out, (record[0], record[1]), record[2:])
    return out


def _cached_report(conn: sqlite3.Connection, start: float, end: float,
                   queue_list: list[str] | None, by: Grouping | None, tz: TimeZone,
                   sl_seconds: float | Mapping[str, float],
                   short_abandon: float | Mapping[str, float], sl_default: float,
                   sa_default: float, sl: _Sql, sa: _Sql) -> _Sums | None:
    """The figures from the hourly cache plus the events of the hours it does not hold yet,
    or None when the cache cannot give exactly the raw figures (see appliance.stats.cache)."""
    if start % HOUR_S or end % HOUR_S:
        return None  # calls entering within part of an hour: only the raw rows tell
    if tz == "local" and by is not None and not _whole_hour_labels(start, end, by):
        return None  # a zone whose interval boundaries fall inside UTC hours
    names = set(queue_list or [])
    for value in (sl_seconds, short_abandon):
        if isinstance(value, Mapping):
            names.update(value)
    pairs = {(_lookup(sl_seconds, q, sl_default), _lookup(short_abandon, q, sa_default))
             for q in names}
    if queue_list is None:  # queues named nowhere get the default (or the single) thresholds
        pairs.add((_fallback(sl_seconds, sl_default), _fallback(short_abandon, sa_default)))
    closed_until = coverage(conn, pairs)
    if closed_until is None:
        return None
    cached_to = min(closed_until, end + HORIZON_S)
    where_queue = f" AND queue IN ({placeholders(queue_list)})" if queue_list else ""
    bucket = bucket_sql("label_hour", by, tz)  # labelled as the raw rows are
    sums = ", ".join(f"sum({name})" for name in COUNT_FIELDS + SUM_FIELDS[:-1])
    sql = f"""
        SELECT {bucket} AS interval, queue, {sums}, max(longest_wait)
        FROM stats_queue_hour
        WHERE sl_seconds = {sl[0]} AND short_abandon = {sa[0]}
          AND enter_hour >= ? AND enter_hour < ? AND event_hour >= ? AND event_hour < ?
          {where_queue}
        GROUP BY queue, interval
    """
    args: list[Any] = [*sl[1], *sa[1], start, end, start, cached_to, *(queue_list or [])]
    out: _Sums = {}
    for record in conn.execute(sql, args):
        _merge(out, (record[0], record[1]), record[2:])
    if cached_to < end + HORIZON_S:  # the events of the hours not closed yet
        _raw(conn, bucket_sql("enter", by, tz), start, end, max(start, cached_to),
             end + HORIZON_S, queue_list, sl, sa, out)
    return out


def _fallback(value: float | Mapping[str, float], default: float) -> float:
    return float(default) if isinstance(value, Mapping) else float(value)


def _whole_hour_labels(start: float, end: float, by: Grouping) -> bool:
    """True when every UTC hour of ``[start, end)`` lies in one local interval."""
    at = start
    while at < end:
        if bucket_of(at, by, "local") != bucket_of(at + HOUR_S - 1, by, "local"):
            return False
        at += HOUR_S
    return True


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
