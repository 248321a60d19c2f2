"""Appending call-center events to the database (docs/database.md, level 2).

Every queue event, CDR and IVR node visit is one row appended to
``queue_log``, ``cdr`` or ``ivr_visits``; statistics are computed from these
rows only. The writer is also the single place that publishes the same
facts on the event bus (topics ``queue.<event>``, ``cdr``, ``ivr.visit``) so
that wallboards and the control socket see what the database records.

On the box each row is handed at once (``batch=1``) to the daemon's
:class:`~appliance.store.writer.DatabaseWriter`, which commits it off the
event loop; the traffic simulator batches thousands of rows per transaction
on its own connection. Calls in progress are journaled in ``live_calls`` for
crash recovery (appliance/calls/recovery.py).
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import sqlite_utils

from appliance.runtime.clock import Clock
from appliance.runtime.events import EventBus
from appliance.store.writer import DatabaseWriter

log = logging.getLogger("appliance.calls")

QUEUE_EVENTS = frozenset(
    {
        "ENTERQUEUE",
        "RINGING",
        "RINGNOANSWER",
        "CONNECT",
        "COMPLETEAGENT",
        "COMPLETECALLER",
        "ABANDON",
        "EXITWITHTIMEOUT",
        "EXITWITHKEY",
        "EXITEMPTY",
        "OVERFLOW",
        "BLINDTRANSFER",
        "ATTENDEDTRANSFER",
        "HOLD",
        "UNHOLD",
        "WRAPUPSTART",
        "WRAPUPEND",
        "AGENTLOGIN",
        "AGENTLOGOFF",
        "PAUSE",
        "UNPAUSE",
    }
)

MAX_PENDING = 100_000  # rows kept for a retry while the database refuses writes

CDR_COLUMNS = (
    "call_id",
    "direction",
    "trunk",
    "channel",
    "caller",
    "caller_name",
    "presentation",
    "callee",
    "start",
    "answer",
    "end",
    "duration",
    "billsec",
    "disposition",
    "cause",
    "queue",
    "agent",
    "ivr_path",
    "satisfaction",
    "resolved",
)

# columns of the live_calls journal of calls in progress (docs/database.md)
JOURNAL_COLUMNS = (
    "call_id", "direction", "trunk", "channel", "legs", "caller", "callee", "queue", "agent",
    "start", "answer", "updated",
)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return str(value)


class EventLog:
    """Appends queue_log, cdr and ivr_visits rows; publishes each on the bus."""

    def __init__(
        self,
        db: sqlite_utils.Database | None,
        clock: Clock,
        bus: EventBus | None = None,
        *,
        batch: int = 1,
        writer: DatabaseWriter | None = None,
    ) -> None:
        self.db = db
        self.writer = writer
        self.clock = clock
        self.bus = bus
        self.batch = max(1, batch)
        self._pending: dict[str, list[tuple[Any, ...]]] = {
            "queue_log": [],
            "cdr": [],
            "ivr_visits": [],
        }
        # live_calls journal writes, in order: (call_id, row) upserts, (call_id, None) deletes
        self._journal: list[tuple[str, tuple[Any, ...] | None]] = []
        self._count = 0
        self.failures = 0

    def queue_event(
        self,
        event: str,
        *,
        call_id: str = "",
        queue: str = "",
        agent: str = "",
        data: tuple[Any, ...] = (),
    ) -> None:
        """Append one queue_log row; ``data`` fills data1..data5 in order."""
        if event not in QUEUE_EVENTS:
            raise ValueError(f"unknown queue_log event {event!r}")
        if len(data) > 5:
            raise ValueError(f"{event}: at most five data fields, got {len(data)}")
        fields = [_text(d) for d in data] + [""] * (5 - len(data))
        at = self.clock.time()
        self._add("queue_log", (at, call_id, queue, agent, event, *fields))
        if self.bus is not None:
            self.bus.publish(
                f"queue.{event.lower()}", call_id=call_id, queue=queue, agent=agent, data=fields
            )

    def ivr_visit(
        self, call_id: str, flow: str, node: str, result: str, at: float | None = None
    ) -> None:
        """Append one node visit; ``at`` is when the call entered the node (default: now)."""
        self._add(
            "ivr_visits", (self.clock.time() if at is None else at, call_id, flow, node, result)
        )
        if self.bus is not None:
            self.bus.publish("ivr.visit", call_id=call_id, flow=flow, node=node, result=result)

    def cdr(self, record: dict[str, Any]) -> None:
        """Append one CDR; ``record`` has the keys of :data:`CDR_COLUMNS`."""
        missing = [c for c in CDR_COLUMNS if c not in record]
        if missing:
            raise ValueError(f"CDR for {record.get('call_id')!r} lacks {', '.join(missing)}")
        self._add("cdr", tuple(record[c] for c in CDR_COLUMNS))
        if self.bus is not None:
            self.bus.publish("cdr", **record)

    def journal_call(self, row: dict[str, Any]) -> None:
        """Record a call in progress in ``live_calls`` (keys: :data:`JOURNAL_COLUMNS`)."""
        if self.db is None:
            return
        self._journal.append((row["call_id"], tuple(row[c] for c in JOURNAL_COLUMNS)))
        self._count_row()

    def journal_end(self, call_id: str) -> None:
        """Remove a call from ``live_calls`` (committed with its CDR, or after it)."""
        if self.db is None:
            return
        self._journal.append((call_id, None))
        self._count_row()

    def _add(self, table: str, row: tuple[Any, ...]) -> None:
        if self.db is None:
            return
        self._pending[table].append(row)
        self._count_row()

    def _count_row(self) -> None:
        self._count += 1
        if self._count >= self.batch:
            self.flush()

    def flush(self) -> None:
        """Commit every pending row in one transaction.

        With a :class:`~appliance.store.writer.DatabaseWriter` (the daemon) the
        rows are handed to its thread and this returns at once. Without one
        (tools, the traffic simulator), if the database refuses (disk full,
        locked past the busy timeout), the rows stay pending and are retried at
        the next flush, so calls go on; beyond ``MAX_PENDING`` rows the oldest
        are dropped, with an error.
        """
        if self.db is None or self._count == 0:
            return
        pending = {table: list(rows) for table, rows in self._pending.items()}
        journal = list(self._journal)
        if self.writer is not None:
            self.writer.submit(lambda conn: _write_rows(conn, pending, journal))
        else:
            conn = self.db.conn
            try:
                conn.execute("BEGIN")
                _write_rows(conn, pending, journal)
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                self.failures += 1
                log.error(
                    "cannot append %d call-center events to the database (%s); kept for a retry",
                    self._count,
                    exc,
                    extra={"cause": str(exc)},
                )
                self._trim()
                return
        for rows in self._pending.values():
            rows.clear()
        self._journal.clear()
        self._count = 0

    def _trim(self) -> None:
        excess = self._count - MAX_PENDING
        for pending in self._pending.values():
            if excess <= 0:
                break
            drop = min(excess, len(pending))
            del pending[:drop]
            excess -= drop
            self._count -= drop
            log.error("dropped %d call-center events the database would not take", drop)


def _write_rows(conn: sqlite3.Connection, pending: dict[str, list[tuple[Any, ...]]],
                journal: list[tuple[str, tuple[Any, ...] | None]]) -> None:
    """Insert one flush's rows inside the caller's transaction."""
    if pending["queue_log"]:
        conn.executemany(
            "INSERT INTO queue_log (at, call_id, queue, agent, event, "
            "data1, data2, data3, data4, data5) VALUES (?,?,?,?,?,?,?,?,?,?)",
            pending["queue_log"],
        )
    if pending["ivr_visits"]:
        conn.executemany(
            "INSERT INTO ivr_visits (at, call_id, flow, node, result) VALUES (?,?,?,?,?)",
            pending["ivr_visits"],
        )
    if pending["cdr"]:
        marks = ",".join("?" * len(CDR_COLUMNS))
        conn.executemany(
            f"INSERT INTO cdr ({', '.join(CDR_COLUMNS)}) VALUES ({marks})", pending["cdr"]
        )
    for call_id, journal_row in journal:
        if journal_row is None:
            conn.execute("DELETE FROM live_calls WHERE call_id = ?", (call_id,))
        else:
            conn.execute(
                f"INSERT OR REPLACE INTO live_calls ({', '.join(JOURNAL_COLUMNS)}) "
                f"VALUES ({','.join('?' * len(JOURNAL_COLUMNS))})", journal_row)
