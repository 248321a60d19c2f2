"""The SQL that turns ``queue_log`` rows into queue figures, shared by the reports and the cache.

One definition of "which events count, with which wait and talk" (docs/database.md) serves
both the raw report and the hourly cache (appliance.stats.cache), so the two cannot drift.
"""

from __future__ import annotations

from collections.abc import Sequence

from appliance.stats.periods import placeholders

HOUR_S = 3600

# Each event becomes a small integer kind once per row (string comparisons are what a
# report over millions of events spends its time on); its wait (enter -> event) and
# talk (answer -> end) come from the data fields docs/database.md gives for it.
KIND = (
    "CASE event WHEN 'ENTERQUEUE' THEN 0 WHEN 'CONNECT' THEN 1 "
    "WHEN 'COMPLETECALLER' THEN 2 WHEN 'COMPLETEAGENT' THEN 2 "
    "WHEN 'ABANDON' THEN 4 WHEN 'RINGNOANSWER' THEN 9 "
    "WHEN 'BLINDTRANSFER' THEN 3 WHEN 'ATTENDEDTRANSFER' THEN 3 "
    "WHEN 'EXITWITHTIMEOUT' THEN 5 WHEN 'EXITWITHKEY' THEN 6 WHEN 'EXITEMPTY' THEN 7 "
    "WHEN 'OVERFLOW' THEN 8 END"
)
WAIT = (
    "CAST(CASE k WHEN 0 THEN 0 WHEN 1 THEN data1 WHEN 2 THEN data1 WHEN 3 THEN data2 "
    "WHEN 6 THEN data4 WHEN 9 THEN 0 ELSE data3 END AS REAL)"
)
TALK = "CAST(CASE k WHEN 2 THEN data2 WHEN 3 THEN data3 ELSE 0 END AS REAL)"
EVENTS: tuple[str, ...] = (
    "ENTERQUEUE", "CONNECT", "COMPLETEAGENT", "COMPLETECALLER", "BLINDTRANSFER",
    "ATTENDEDTRANSFER", "ABANDON", "EXITWITHTIMEOUT", "EXITWITHKEY", "EXITEMPTY", "OVERFLOW",
    "RINGNOANSWER",
)

COUNT_FIELDS: tuple[str, ...] = (
    "offered", "answered", "answered_in_sl", "abandoned", "abandoned_counted", "timeouts",
    "exit_key", "exit_empty", "overflowed", "rona", "completed",
)
SUM_FIELDS: tuple[str, ...] = (
    "wait_answered_s", "ring_answered_s", "wait_abandoned_s", "talk_s", "longest_wait",
)


def aggregates(sl_expr: str, sa_expr: str) -> str:
    """The figures of COUNT_FIELDS + SUM_FIELDS, in that order, over rows of :func:`event_rows`."""
    return f"""
          sum(k = 0), sum(k = 1), sum(k = 1 AND wait <= {sl_expr}),
          sum(k = 4), sum(k = 4 AND wait >= {sa_expr}),
          sum(k = 5), sum(k = 6), sum(k = 7), sum(k = 8), sum(k = 9), sum(k IN (2, 3)),
          total(CASE WHEN k = 1 THEN wait END),
          total(CASE WHEN k = 1 THEN CAST(data3 AS REAL) END),
          total(CASE WHEN k = 4 THEN wait END),
          total(talk),
          max(CASE WHEN k = 1 OR k BETWEEN 4 AND 8 THEN wait ELSE 0.0 END)"""


def event_rows(queues: Sequence[str] | None) -> tuple[str, list[object]]:
    """A subquery of the counted events with ``at`` in ``[?, ?)`` (the caller's two first
    parameters): columns queue, k, data3, wait, talk, at and enter (= at - wait - talk).

    Returns the SQL and the parameters that follow the two bounds.
    """
    # the level-5 covering index (queue, at, event, agent, data1..data4) answers this without
    # touching the table; unary + on event keeps the planner off the (event, at) index
    where_queue = f" AND queue IN ({placeholders(list(queues))})" if queues else ""
    sql = f"""
          SELECT queue, k, data3, wait, talk, at, at - wait - talk AS enter FROM (
            SELECT queue, k, data3, at, {WAIT} AS wait, {TALK} AS talk FROM (
              SELECT queue, at, data1, data2, data3, data4, {KIND} AS k
              FROM queue_log
              WHERE at >= ? AND at < ? AND +event IN ({placeholders(list(EVENTS))}){where_queue}
            )
            LIMIT -1  -- not flattened: wait and talk are computed once per event, not per use
          )"""
    return sql, [*EVENTS, *(queues or [])]


def hour_floor(column: str) -> str:
    """SQL for the start (epoch seconds) of the UTC hour holding ``column``, exact at the
    boundaries: the float quotient is corrected by one hour when rounding crossed one."""
    h0 = f"CAST({column} / {HOUR_S} AS INTEGER)"
    return (f"(({h0} - ({h0} * {HOUR_S} > {column}) + (({h0} + 1) * {HOUR_S} <= {column}))"
            f" * {HOUR_S})")
