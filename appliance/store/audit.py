"""The audit log: every change made through the CLI, the console or a control socket (ADM-2).

The table is append-only (migration 0009's triggers refuse UPDATE and DELETE)
and hash-chained: each row's ``hash`` is SHA-256 over the previous row's hash
and the row's canonical content, so an edited, inserted or removed row breaks
the chain at that row (:func:`verify`, ``appliancectl audit verify``). Rows are
appended inside a write transaction (``BEGIN IMMEDIATE``), so the CLI and both
daemons writing at once still form one chain.

The actor of a local row is the real uid's account name (``pwd``), never
``$USER`` or ``$LOGNAME``, which any user can set.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

import sqlite_utils

COLUMNS = ("id", "at", "actor", "origin", "action", "target", "outcome", "detail")


def current_actor() -> str:
    """The Unix user this process really runs as (real uid, SEC-2)."""
    uid = os.getuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


@dataclass(frozen=True)
class Entry:
    action: str
    actor: str
    origin: str
    target: str = ""
    outcome: str = "ok"
    detail: dict[str, Any] | None = None
    at: float | None = None


def row_hash(prev_hash: str, row: dict[str, Any]) -> str:
    """SHA-256 (FIPS 180-4) over the previous hash and the row's canonical JSON."""
    canonical = json.dumps([row[c] for c in COLUMNS], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


def append(conn: sqlite3.Connection, entry: Entry) -> None:
    """Append ``entry`` to the chain; ``conn`` must be inside a write transaction."""
    last = conn.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    row: dict[str, Any] = {
        "id": (last[0] + 1) if last else 1,
        "at": time.time() if entry.at is None else float(entry.at),
        "actor": entry.actor,
        "origin": entry.origin,
        "action": entry.action,
        "target": entry.target,
        "outcome": entry.outcome,
        "detail": json.dumps(entry.detail or {}, default=str),
    }
    prev_hash = (last[1] or "") if last else ""
    conn.execute(
        f"INSERT INTO audit_log ({', '.join(COLUMNS)}, prev_hash, hash) "
        f"VALUES ({', '.join('?' * len(COLUMNS))}, ?, ?)",
        [*(row[c] for c in COLUMNS), prev_hash, row_hash(prev_hash, row)],
    )


def append_now(conn: sqlite3.Connection, entry: Entry) -> None:
    """Append ``entry`` in a transaction of its own (or the caller's, if one is open)."""
    if conn.in_transaction:
        append(conn, entry)
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        append(conn, entry)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def record(
    db: sqlite_utils.Database,
    action: str,
    *,
    target: str = "",
    outcome: str = "ok",
    origin: str = "cli",
    actor: str | None = None,
    detail: dict[str, Any] | None = None,
    at: float | None = None,
) -> None:
    """Append one audit row; ``outcome`` is 'ok' or 'refused: <reason>'."""
    append_now(db.conn, Entry(action, actor or current_actor(), origin, target, outcome,
                              detail, at))


@dataclass(frozen=True)
class Verdict:
    rows: int  # rows in the table
    chained: int  # rows the chain covers
    legacy: int  # rows written before migration 0009, outside the chain
    head: str  # hash of the last row ("" when none is chained)
    broken_id: int | None = None  # first row that does not fit the chain
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_id is None

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "rows": self.rows, "chained": self.chained,
                "legacy": self.legacy, "head": self.head, "broken_id": self.broken_id,
                "reason": self.reason}


def _fault(prev_hash: str, row: dict[str, Any]) -> str:
    """Why ``row`` does not follow a row hashed ``prev_hash``; "" when it does."""
    if row["hash"] is None:
        return "no hash: the row was written or edited outside the chain"
    if row["prev_hash"] != prev_hash:
        return ("prev_hash does not match the row before: a row was removed, inserted or "
                "edited before this one")
    if row_hash(prev_hash, row) != row["hash"]:
        return "hash does not match the row's content: the row was edited"
    return ""


def verify(conn: sqlite3.Connection) -> Verdict:
    """Walk the chain in id order; the first row whose links or hash do not match breaks it."""
    total = conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    legacy_through = conn.execute("SELECT max(legacy_through) FROM audit_chain").fetchone()[0]
    legacy = chained = 0
    prev_hash = ""
    cursor = conn.execute(
        f"SELECT {', '.join(COLUMNS)}, prev_hash, hash FROM audit_log ORDER BY id")
    for values in cursor:
        row = dict(zip((*COLUMNS, "prev_hash", "hash"), values, strict=True))
        if row["hash"] is None and not chained and row["id"] <= (legacy_through or 0):
            legacy += 1  # written before migration 0009
            continue
        reason = _fault(prev_hash, row)
        if reason:
            return Verdict(total, chained, legacy, prev_hash, int(row["id"]), reason)
        prev_hash = str(row["hash"])
        chained += 1
    return Verdict(total, chained, legacy, prev_hash)
