"""The power event log: every transition goes to the power_events table and the journal.

Rows follow migration 0003 (appliance/store/migrations/0003_power_events.sql):
``at`` (epoch seconds), ``state`` entered, ``previous`` state, ``reason``,
``detail`` (a JSON object). A database error is logged and the event kept
in memory: losing a history row must never stop a failover.
"""

from __future__ import annotations

import collections
import json
import logging
import sqlite3
from collections.abc import Callable
from typing import Any

import sqlite_utils

from appliance.runtime.clock import Clock

log = logging.getLogger("appliance.power")

Publisher = Callable[[str, dict[str, Any]], None]

# journal priority of each state entered (the lines a field engineer reads first)
_LEVELS = {
    "on_battery": logging.WARNING,
    "low_battery": logging.ERROR,
    "shutdown": logging.CRITICAL,
    "lifeline_engaged": logging.WARNING,
    "relay_stuck": logging.CRITICAL,
    "board_fault": logging.ERROR,
    "ups_stale": logging.WARNING,
}


class PowerEventLog:
    def __init__(
        self,
        clock: Clock,
        db: sqlite_utils.Database | None = None,
        publish: Publisher | None = None,
        keep: int = 500,
    ) -> None:
        self.clock = clock
        self.db = db
        self.publish = publish
        self.recent: collections.deque[dict[str, Any]] = collections.deque(maxlen=keep)

    def record(self, state: str, previous: str, reason: str, detail: dict[str, Any]) -> None:
        row = {"at": self.clock.time(), "state": state, "previous": previous, "reason": reason,
               "detail": json.dumps(detail, sort_keys=True, default=str)}
        log.log(
            _LEVELS.get(state, logging.INFO),
            "power: %s -> %s (%s) %s", previous or "-", state, reason, row["detail"],
            extra={"power_state": state, "power_previous": previous, "reason": reason},
        )
        if self.db is not None:
            try:
                self.db.table("power_events").insert(row)
            except sqlite3.Error as exc:
                log.error("power: cannot write power_events (%s); event kept in memory", exc)
        self.recent.append(row)
        if self.publish is not None:
            self.publish("power.event", {**row, "detail": detail})

    def history(self, limit: int = 50, since: float | None = None) -> list[dict[str, Any]]:
        """The latest ``limit`` events (at or after ``since``), oldest first."""
        return list(reversed(self._newest_first(limit, since)))

    def _newest_first(self, limit: int, since: float | None) -> list[dict[str, Any]]:
        if self.db is not None:
            try:
                where = "at >= ?" if since is not None else None
                rows = self.db.table("power_events").rows_where(
                    where, [since] if since is not None else None, order_by="id desc", limit=limit
                )
                return [{**r, "detail": json.loads(r["detail"] or "{}")} for r in rows]
            except sqlite3.Error as exc:
                log.error("power: cannot read power_events (%s); showing memory", exc)
        rows_mem = [r for r in self.recent if since is None or r["at"] >= since]
        return [{**r, "detail": json.loads(r["detail"])} for r in reversed(rows_mem)][:limit]
