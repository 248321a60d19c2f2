"""Report ranges and intervals (STAT "by year, month, day, hour, custom range").

A report covers the half-open range ``[start, end)`` of Unix epoch seconds.
Its rows are grouped by the interval in which each call *entered* the queue
(or the event happened, for agent state and IVR visits), labelled in UTC or
in the box's local time zone.
"""

from __future__ import annotations

import math
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import sqlite_utils

from appliance.stats.errors import StatsError

Grouping = Literal["hour", "day", "month", "year"]
TimeZone = Literal["utc", "local"]

# strftime() formats of the interval labels (SQLite "Date And Time Functions")
_FORMATS: dict[str, str] = {
    "hour": "%Y-%m-%d %H:00",
    "day": "%Y-%m-%d",
    "month": "%Y-%m",
    "year": "%Y",
}
TOTAL = "total"
# outcome events name the wait that preceded them; a call is attributed to the interval in
# which it entered the queue, found as (event time - wait - talk). Calls that waited or
# talked longer than this horizon after the end of the range are not looked for.
HORIZON_S = 86_400.0

Db = sqlite_utils.Database | sqlite3.Connection


def connection(db: Db) -> sqlite3.Connection:
    """The raw sqlite3 connection behind ``db``."""
    if isinstance(db, sqlite3.Connection):
        return db
    conn: sqlite3.Connection = db.conn
    return conn


def check_range(start: float, end: float) -> None:
    """Refuse an impossible report range with a message naming it."""
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise StatsError(f"report {name} {value!r} is not a time")
    if end <= start:
        raise StatsError(
            f"impossible report range: end {iso(end)} is not after start {iso(start)}"
        )


def bucket_sql(column: str, by: Grouping | None, tz: TimeZone = "utc") -> str:
    """An SQL expression giving the interval label of epoch-seconds ``column``."""
    if by is None:
        return f"'{TOTAL}'"
    if by not in _FORMATS:
        raise StatsError(f"unknown grouping {by!r}; choose hour, day, month or year")
    if tz not in ("utc", "local"):
        raise StatsError(f"unknown time zone {tz!r}; choose utc or local")
    modifier = ", 'localtime'" if tz == "local" else ""
    return f"strftime('{_FORMATS[by]}', {column}, 'unixepoch'{modifier})"


def bucket_of(at: float, by: Grouping | None, tz: TimeZone = "utc") -> str:
    """The interval label of one time, computed in Python exactly as :func:`bucket_sql` does."""
    if by is None:
        return TOTAL
    if by not in _FORMATS:
        raise StatsError(f"unknown grouping {by!r}; choose hour, day, month or year")
    moment = datetime.fromtimestamp(at, UTC)
    if tz == "local":
        moment = datetime.fromtimestamp(at).replace(tzinfo=None)
    return moment.strftime(_FORMATS[by])


def intervals(start: float, end: float, by: Grouping | None,
              tz: TimeZone = "utc") -> list[tuple[str, float, float]]:
    """The report's intervals ``(label, from, to)`` covering ``[start, end)``, clipped to it."""
    check_range(start, end)
    if by is None:
        return [(TOTAL, start, end)]
    if by not in _FORMATS:
        raise StatsError(f"unknown grouping {by!r}; choose hour, day, month or year")
    out: list[tuple[str, float, float]] = []
    at = start
    while at < end:
        boundary = _next_boundary(at, by, tz)
        out.append((bucket_of(at, by, tz), at, min(boundary, end)))
        at = boundary
    return out


def _next_boundary(at: float, by: Grouping, tz: TimeZone) -> float:
    moment = datetime.fromtimestamp(at, UTC)
    if tz == "local":
        moment = datetime.fromtimestamp(at).astimezone()
    if by == "hour":
        floor = moment.replace(minute=0, second=0, microsecond=0)
        return floor.timestamp() + 3600.0
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if by == "day":
        nxt = day + timedelta(days=1)
    elif by == "month":
        nxt = day.replace(day=1, year=day.year + (day.month == 12), month=day.month % 12 + 1)
    else:
        nxt = day.replace(day=1, month=1, year=day.year + 1)
    if tz == "local":  # midnight in the local zone of that date (DST may differ from today's)
        nxt = nxt.replace(tzinfo=None).astimezone()
    return nxt.timestamp()


def iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str, tz: TimeZone = "utc") -> float:
    """``2026-11-23``, ``2026-11-23T10:00``, ``2026-11-23 10:00:00+01:00`` or epoch seconds."""
    value = text.strip()
    try:
        return float(value)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise StatsError(
            f"cannot read time {text!r}: use YYYY-MM-DD[THH:MM[:SS]][+HH:MM] or epoch seconds"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC) if tz == "utc" else moment.astimezone()
    return moment.timestamp()


def placeholders(values: list[Any]) -> str:
    return ", ".join("?" for _ in values)
