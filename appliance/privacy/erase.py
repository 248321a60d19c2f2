"""A customer's erasure request: their number out of every table, their recordings gone (SEC-3).

GDPR art. 17 in practice for a call center: the caller's number is removed
from every text column of every table (CDRs, queue_log, IVR visits, recording
index, call journals, service events, and any table a later migration adds:
the scan reads the schema, it has no list to forget to update). Rows stay, so
the call still counts in the statistics; only the number becomes ``[erased]``
and the caller's name is cleared on the CDRs of their calls. Their recordings
are deleted, file and index row together.

What cannot be edited is found and reported instead, so the data protection
officer knows what still holds the number: database backups (taken with
``appliancectl db backup``, found through the audit log), recording exports
(``appliancectl rec export`` archives whose manifest names the caller or one of
their calls) and the audit log itself, which is append-only by design.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from appliance.recording import Recording, RecordingError, RecordingIndex, delete
from appliance.store.db import connect

ERASED = "[erased]"
# E.164 (ITU-T E.164 §6): at most 15 digits; fewer than 5 would hit extensions and short codes
NUMBER = re.compile(r"\+?[0-9]{5,15}")
# tables that hold no caller data (accounts) or must not be edited (the append-only audit log)
NOT_SCANNED = frozenset({"audit_log", "users", "user_grants", "sqlite_sequence"})


class ErasureError(Exception):
    """The request cannot be carried out; nothing was changed."""


@dataclass
class Holder:
    """A file the number survives in (a backup or an export) and what in it matches."""

    path: str
    matches: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "matches": self.matches}


@dataclass
class ErasurePlan:
    """What an erasure of ``number`` removes, and what still holds it afterwards."""

    number: str
    call_ids: list[str]
    recordings: list[Recording]
    columns: dict[str, int]  # "table.column" -> rows whose text contains the number
    backups: list[Holder] = field(default_factory=list)
    exports: list[Holder] = field(default_factory=list)
    audit_rows: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "calls": len(self.call_ids),
            "recordings": [r.id for r in self.recordings],
            "rows": self.columns,
            "backups_holding": [b.as_dict() for b in self.backups],
            "exports_holding": [e.as_dict() for e in self.exports],
            "audit_rows_mentioning": self.audit_rows,
        }


def checked_number(number: str) -> str:
    """``number`` if it is a caller number an erasure may act on, else ErasureError."""
    if not NUMBER.fullmatch(number):
        raise ErasureError(
            f"caller number {number!r}: expected 5 to 15 digits, optionally after '+' "
            "(E.164); shorter numbers would match extensions and service codes")
    return number


def masked(number: str) -> str:
    """What the audit log keeps of an erased number: enough to tell requests apart."""
    return "*" * (len(number) - 4) + number[-4:]


def text_columns(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """(table, column) of every TEXT column of every table that may hold caller data."""
    out: list[tuple[str, str]] = []
    tables = [row[0] for row in conn.execute(
        "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")]
    for table in tables:
        if table in NOT_SCANNED or table.startswith("sqlite_"):
            continue
        for _cid, column, kind, *_rest in conn.execute(f'PRAGMA table_info("{table}")'):
            if str(kind).upper() == "TEXT":
                out.append((table, column))
    return out


def _matches(conn: sqlite3.Connection, number: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table, column in text_columns(conn):
        (count,) = conn.execute(
            f'SELECT count(*) FROM "{table}" WHERE instr("{column}", ?) > 0', (number,)
        ).fetchone()
        if count:
            counts[f"{table}.{column}"] = int(count)
    return counts


def _call_ids(conn: sqlite3.Connection, number: str) -> list[str]:
    rows = conn.execute(
        "SELECT call_id FROM cdr WHERE caller = ? OR callee = ? "
        "UNION SELECT call_id FROM recordings WHERE caller = ? OR dnis = ?",
        (number, number, number, number),
    ).fetchall()
    return sorted(str(r[0]) for r in rows)


def _audit_targets(conn: sqlite3.Connection, action: str) -> list[str]:
    return [str(r[0]) for r in conn.execute(
        "SELECT DISTINCT target FROM audit_log WHERE action = ? AND target != '' "
        "ORDER BY target", (action,))]


def _backups_holding(conn: sqlite3.Connection, number: str, live_path: str) -> list[Holder]:
    holders: list[Holder] = []
    for path in _audit_targets(conn, "db.backup"):
        if not os.path.isfile(path) or os.path.realpath(path) == os.path.realpath(live_path):
            continue
        try:
            backup = connect(path, readonly=True)
        except (sqlite3.Error, OSError) as exc:
            holders.append(Holder(path, {f"unreadable: {exc}": 1}))
            continue
        try:
            found = _matches(backup, number)
        except sqlite3.Error as exc:
            found = {f"unreadable: {exc}": 1}
        finally:
            backup.close()
        if found:
            holders.append(Holder(path, found))
    return holders


def _exports_holding(conn: sqlite3.Connection, number: str,
                     call_ids: Iterable[str]) -> list[Holder]:
    calls = set(call_ids)
    holders: list[Holder] = []
    for path in _audit_targets(conn, "rec.export"):
        if not os.path.isfile(path):
            continue
        try:
            with tarfile.open(path, "r:gz") as tar:
                member = tar.extractfile("manifest.json")
                manifest = json.loads(member.read()) if member is not None else {}
        except (tarfile.TarError, KeyError, OSError, ValueError) as exc:
            holders.append(Holder(path, {f"unreadable: {exc}": 1}))
            continue
        hits = sum(1 for r in manifest.get("recordings", [])
                   if r.get("caller") == number or r.get("call_id") in calls)
        if hits:
            holders.append(Holder(path, {"recordings": hits}))
    return holders


def plan(conn: sqlite3.Connection, index: RecordingIndex, number: str,
         db_path: str) -> ErasurePlan:
    """Everything an erasure of ``number`` would change or could not reach (a dry run)."""
    checked_number(number)
    call_ids = _call_ids(conn, number)
    recordings = _recordings(index, number, call_ids)
    (audit_rows,) = conn.execute(
        "SELECT count(*) FROM audit_log WHERE instr(target, ?) > 0 OR instr(detail, ?) > 0",
        (number, number)).fetchone()
    return ErasurePlan(
        number=number, call_ids=call_ids, recordings=recordings,
        columns=_matches(conn, number),
        backups=_backups_holding(conn, number, db_path),
        exports=_exports_holding(conn, number, call_ids),
        audit_rows=int(audit_rows),
    )


def _recordings(index: RecordingIndex, number: str, call_ids: list[str]) -> list[Recording]:
    placeholders = ",".join("?" * len(call_ids))
    where = "caller = ? OR dnis = ?" + (f" OR call_id IN ({placeholders})" if call_ids else "")
    ids = [int(r[0]) for r in index.query(
        f"SELECT id FROM recordings WHERE {where} ORDER BY id", [number, number, *call_ids])]
    return [index.get(rec_id) for rec_id in ids]


def erase(conn: sqlite3.Connection, index: RecordingIndex, root: str,
          erasure: ErasurePlan) -> dict[str, int]:
    """Carry out ``erasure``: recordings deleted, then the number replaced in every column.

    A recording still being written means the caller is on a call: nothing is changed.
    Returns the rows changed per ``table.column``.
    """
    busy = [r.id for r in erasure.recordings if r.status == "recording"]
    if busy:
        raise ErasureError(
            f"recording(s) {', '.join(map(str, busy))} of this caller are still being written "
            "(a call is in progress); erase after it ends")
    for rec in erasure.recordings:
        try:
            delete(index, root, rec.id)
        except RecordingError as exc:
            raise ErasureError(f"recording {rec.id}: {exc}") from exc
    changed: dict[str, int] = {}
    number = erasure.number
    with conn:
        if erasure.call_ids:
            placeholders = ",".join("?" * len(erasure.call_ids))
            conn.execute(f"UPDATE cdr SET caller_name = '' WHERE call_id IN ({placeholders})",
                         erasure.call_ids)
        for table, column in text_columns(conn):
            cursor = conn.execute(
                f'UPDATE "{table}" SET "{column}" = replace("{column}", ?, ?) '
                f'WHERE instr("{column}", ?) > 0', (number, ERASED, number))
            if cursor.rowcount:
                changed[f"{table}.{column}"] = cursor.rowcount
    return changed
