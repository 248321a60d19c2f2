"""The recordings index in the database (table ``recordings``, docs/database.md level 5)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from typing import Any

from appliance.stats.periods import Db, connection


class RecordingError(Exception):
    """A recording operation failed; the message names the recording and what to do."""


@dataclass(frozen=True)
class Recording:
    id: int
    call_id: str
    segment: int
    agent: str
    extension: str
    queue: str
    caller: str
    dnis: str
    start: float
    duration: float
    size: int
    checksum: str
    path: str
    format: str
    channels: int
    policy: str
    status: str
    ended: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_COLUMNS = ", ".join(f.name for f in fields(Recording))


@dataclass(frozen=True)
class SearchFilter:
    """REC-2: every given criterion must match; times select on the recording's start."""

    agent: str | None = None
    extension: str | None = None
    queue: str | None = None
    caller: str | None = None  # exact number, or a prefix ending in '*'
    call_id: str | None = None
    start: float | None = None
    end: float | None = None
    limit: int | None = None


class RecordingIndex:
    """Rows of ``recordings``; safe to use from the writer thread and the loop (one lock)."""

    def __init__(self, db: Db) -> None:
        self.conn: sqlite3.Connection = connection(db)
        self._lock = threading.RLock()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        """A read-only query on the index's connection (under its lock)."""
        with self._lock:
            return self.conn.execute(sql, tuple(params)).fetchall()

    def add(self, *, call_id: str, segment: int, path: str, start: float, format: str,
            channels: int, agent: str = "", extension: str = "", queue: str = "", caller: str = "",
            dnis: str = "", policy: str = "") -> int:
        """A new row with status 'recording' (written when the file is created)."""
        with self.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO recordings (call_id, segment, agent, extension, queue, caller, dnis, "
                "start, path, format, channels, policy, status) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'recording')",
                (call_id, segment, agent, extension, queue, caller, dnis, start, path, format,
                 channels, policy),
            )
            rowid = cursor.lastrowid
        assert rowid is not None
        return rowid

    def next_segment(self, call_id: str) -> int:
        with self._lock:
            value: int = self.conn.execute(
                "SELECT coalesce(max(segment), 0) + 1 FROM recordings WHERE call_id = ?", (call_id,)
            ).fetchone()[0]
        return value

    def finish(self, rec_id: int, *, duration: float, size: int, checksum: str, status: str,
               ended: float) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE recordings SET duration = ?, size = ?, checksum = ?, status = ?, ended = ? "
                "WHERE id = ?", (duration, size, checksum, status, ended, rec_id),
            )

    def get(self, rec_id: int) -> Recording:
        with self._lock:
            row = self.conn.execute(f"SELECT {_COLUMNS} FROM recordings WHERE id = ?",
                                    (rec_id,)).fetchone()
        if row is None:
            raise RecordingError(f"recording {rec_id} is not in the index")
        return Recording(*row)

    def search(self, criteria: SearchFilter) -> list[Recording]:
        clauses: list[str] = []
        params: list[Any] = []
        for column in ("agent", "extension", "queue", "call_id"):
            value = getattr(criteria, column)
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if criteria.caller is not None:
            if criteria.caller.endswith("*"):
                clauses.append("caller >= ? AND caller < ?")
                prefix = criteria.caller[:-1]
                params.extend([prefix, prefix + "\U0010ffff"])
            else:
                clauses.append("caller = ?")
                params.append(criteria.caller)
        if criteria.start is not None:
            clauses.append("start >= ?")
            params.append(criteria.start)
        if criteria.end is not None:
            clauses.append("start < ?")
            params.append(criteria.end)
        if (criteria.start is not None and criteria.end is not None
                and criteria.end <= criteria.start):
            raise RecordingError("impossible search range: --to is not after --from")
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        limit = f" LIMIT {int(criteria.limit)}" if criteria.limit else ""
        with self._lock:
            rows = self.conn.execute(
                f"SELECT {_COLUMNS} FROM recordings {where} ORDER BY start, id{limit}", params
            ).fetchall()
        return [Recording(*row) for row in rows]

    def by_status(self, status: str) -> list[Recording]:
        with self._lock:
            rows = self.conn.execute(
                f"SELECT {_COLUMNS} FROM recordings WHERE status = ? ORDER BY id", (status,)
            ).fetchall()
        return [Recording(*row) for row in rows]

    def all(self) -> list[Recording]:
        return self.search(SearchFilter())

    def remove(self, rec_id: int) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM recordings WHERE id = ?", (rec_id,))
