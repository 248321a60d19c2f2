"""Hourly cache of queue figures over closed hours (docs/statistics.md "Hourly cache").

The cache is derived data, never a source of truth: :func:`refresh_queue_cache` computes it
FROM ``queue_log`` and it can be deleted at any time. For each pair of thresholds
(service level, short abandon) it holds, per queue, per hour of queue entry and per hour in
which the events happened, the partial sums of every queue figure of the events of *closed*
hours: hours that ended before the hour of the newest event. A report over whole UTC hours
adds the cached partial sums to the figures of the events of the still-open hours, which it
reads from ``queue_log``; the result is the figures of the raw computation.

If an event is written later with a time inside an already-closed hour, the cache of every
threshold pair is found stale (an id above the one it was built with and a time before its
``closed_until``) and reports ignore it until the next refresh rebuilds it.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable

from appliance.stats.errors import StatsError
from appliance.stats.periods import Db, connection
from appliance.stats.queue_sql import (
    COUNT_FIELDS,
    HOUR_S,
    SUM_FIELDS,
    aggregates,
    event_rows,
    hour_floor,
)

log = logging.getLogger("appliance.stats")

Thresholds = tuple[float, float]

_FIGURES = COUNT_FIELDS + SUM_FIELDS


def has_cache(conn: sqlite3.Connection) -> bool:
    """True when the database has the level-7 cache tables."""
    row = conn.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'stats_queue_cache'"
    ).fetchone()
    return bool(row[0])


def _newest(conn: sqlite3.Connection) -> tuple[int, float] | None:
    row = conn.execute("SELECT id, at FROM queue_log ORDER BY id DESC LIMIT 1").fetchone()
    return (int(row[0]), float(row[1])) if row else None


def _stale(conn: sqlite3.Connection, max_id: int, closed_until: float) -> bool:
    """An event written after the cache was built, with a time in a closed hour."""
    row = conn.execute("SELECT 1 FROM queue_log NOT INDEXED WHERE id > ? AND at < ? LIMIT 1",
                       (max_id, closed_until)).fetchone()
    return row is not None


def _held(conn: sqlite3.Connection, sl: float, sa: float) -> tuple[float, int] | None:
    """(closed_until, max_id) of a pair's valid cache, None if never built or stale."""
    row = conn.execute("SELECT closed_until, max_id FROM stats_queue_cache "
                       "WHERE sl_seconds = ? AND short_abandon = ?", (sl, sa)).fetchone()
    if row is None or _stale(conn, int(row[1]), float(row[0])):
        return None
    return float(row[0]), int(row[1])


def coverage(conn: sqlite3.Connection, pairs: Iterable[Thresholds]) -> float | None:
    """The time up to which the cache holds every event for all ``pairs``, or None if it
    cannot serve them (a pair never cached, or a late event made it stale)."""
    if not has_cache(conn):
        return None
    until: float | None = None
    for sl, sa in pairs:
        row = conn.execute("SELECT closed_until, max_id FROM stats_queue_cache "
                           "WHERE sl_seconds = ? AND short_abandon = ?", (sl, sa)).fetchone()
        if row is None or _stale(conn, int(row[1]), float(row[0])):
            return None
        until = float(row[0]) if until is None else min(until, float(row[0]))
    return until


def refresh_queue_cache(db: Db, thresholds: Iterable[Thresholds] = ()) -> float | None:
    """Bring the hourly cache up to the last closed hour for ``thresholds`` and for every
    pair already cached; rebuild a pair from scratch if it went stale.

    Returns the time up to which events are cached (None when ``queue_log`` is empty).
    """
    conn = connection(db)
    if not has_cache(conn):
        raise StatsError("the database has no statistics cache tables (schema level 7)")
    pairs = {(float(sl), float(sa)) for sl, sa in thresholds}
    for sl, sa in pairs:
        for name, value in (("service-level threshold", sl), ("short-abandon threshold", sa)):
            if not value >= 0:
                raise StatsError(f"{name} must be a number of seconds >= 0, got {value!r}")
    pairs.update((float(r[0]), float(r[1])) for r in conn.execute(
        "SELECT sl_seconds, short_abandon FROM stats_queue_cache"))
    newest = _newest(conn)
    if newest is None:
        return None
    max_id = newest[0]
    # the newest event is the latest time in the log, not the last row written: read only the
    # rows written since the oldest still valid build, the rest is in its closed_until
    base, known = 0, float("-inf")
    held = [_held(conn, sl, sa) for sl, sa in pairs]
    if all(h is not None for h in held):
        base = min(h[1] for h in held if h is not None)
        known = max(h[0] for h in held if h is not None)
    last_at = conn.execute("SELECT max(at) FROM queue_log NOT INDEXED WHERE id > ?",
                           (base,)).fetchone()[0]
    closed_until = known
    if last_at is not None:
        floor = float((int(last_at) // HOUR_S) * HOUR_S)
        if floor > last_at:  # negative times: floor, not truncation
            floor -= HOUR_S
        closed_until = max(closed_until, floor)
    for sl, sa in sorted(pairs):
        _refresh_pair(conn, sl, sa, closed_until, max_id)
    return closed_until


def _refresh_pair(conn: sqlite3.Connection, sl: float, sa: float, closed_until: float,
                  max_id: int) -> None:
    began = conn.in_transaction
    if not began:
        conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute("SELECT closed_until, max_id FROM stats_queue_cache "
                           "WHERE sl_seconds = ? AND short_abandon = ?", (sl, sa)).fetchone()
        low = float("-inf")
        if row is not None and _stale(conn, int(row[1]), float(row[0])):
            log.warning("statistics cache for thresholds %s/%s s is stale (an event was "
                        "written into a closed hour): rebuilding it from queue_log", sl, sa,
                        extra={"sl_seconds": sl, "short_abandon": sa})
            conn.execute("DELETE FROM stats_queue_hour WHERE sl_seconds = ? "
                         "AND short_abandon = ?", (sl, sa))
        elif row is not None:
            low = float(row[0])
        if closed_until > low:
            rows_sql, rows_args = event_rows(None)
            conn.execute(
                f"""INSERT INTO stats_queue_hour (sl_seconds, short_abandon, queue, enter_hour,
                      label_hour, event_hour, {", ".join(_FIGURES)})
                    SELECT ?, ?, queue, {hour_floor("enter")} AS enter_hour,
                      {hour_floor("CAST(strftime('%s', enter, 'unixepoch') AS INTEGER)")}
                        AS label_hour,
                      {hour_floor("at")} AS event_hour, {aggregates("?", "?")}
                    FROM ({rows_sql})
                    GROUP BY queue, enter_hour, label_hour, event_hour""",
                [sl, sa, sl, sa, max(low, -1e300), closed_until, *rows_args],
            )
        conn.execute("INSERT OR REPLACE INTO stats_queue_cache (sl_seconds, short_abandon, "
                     "closed_until, max_id) VALUES (?, ?, ?, ?)",
                     (sl, sa, max(closed_until, low), max_id))
    except sqlite3.Error:
        if not began:
            conn.execute("ROLLBACK")
        raise
    if not began:
        conn.execute("COMMIT")


def clear_queue_cache(db: Db) -> None:
    """Forget the cache (reports then compute everything from ``queue_log``)."""
    conn = connection(db)
    if has_cache(conn):
        conn.execute("DELETE FROM stats_queue_hour")
        conn.execute("DELETE FROM stats_queue_cache")
        if conn.in_transaction:
            conn.execute("COMMIT")
