"""Numbered schema migrations.

Migrations are the files ``appliance/store/migrations/NNNN_name.sql``; the
database's schema level is ``PRAGMA user_version`` (the number of the last one
applied). Each migration runs in one ``BEGIN IMMEDIATE`` transaction together
with the level bump, so a crash leaves the database at the previous level,
never half-way.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from importlib import resources

from appliance.store.db import SCHEMA_APPLICATION_ID, StoreError

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    level: int
    name: str
    sql: str


def available() -> list[Migration]:
    """Every migration shipped with the code, in order."""
    found: list[Migration] = []
    folder = resources.files("appliance.store") / "migrations"
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text("utf-8")))
    found.sort(key=lambda m: m.level)
    levels = [m.level for m in found]
    if levels != list(range(1, len(found) + 1)):
        raise StoreError(f"migrations are not numbered 1..N without gaps: {levels}")
    return found


def latest_level() -> int:
    return len(available())


def schema_level(conn: sqlite3.Connection) -> int:
    level: int = conn.execute("PRAGMA user_version").fetchone()[0]
    return level


def check_identity(conn: sqlite3.Connection, path: str) -> None:
    """Refuse a database that belongs to another application or to newer code."""
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    level = schema_level(conn)
    if app_id not in (0, SCHEMA_APPLICATION_ID):
        raise StoreError(f"{path}: not an appliance database (application_id {app_id:#x})")
    if app_id == 0 and level == 0:
        tables = conn.execute("SELECT count(*) FROM sqlite_schema WHERE type='table'").fetchone()[0]
        if tables:
            raise StoreError(
                f"{path}: not an appliance database ({tables} foreign tables, no schema level)"
            )
    if level > latest_level():
        raise StoreError(
            f"{path}: schema level {level} is newer than this software knows ({latest_level()}); "
            "upgrade the software or restore an older backup"
        )


def _statements(sql: str) -> list[str]:
    statements: list[str] = []
    current = ""
    for line in sql.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            if current.strip():
                statements.append(current.strip())
            current = ""
    if current.strip() and not current.strip().startswith("--"):
        raise StoreError(f"migration ends with an incomplete statement: {current.strip()[:60]!r}")
    return statements


def migrate(
    conn: sqlite3.Connection, path: str = "<database>", target: int | None = None
) -> list[int]:
    """Apply pending migrations up to ``target`` (default: latest). Returns the levels applied."""
    try:
        check_identity(conn, path)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: not a readable SQLite database: {exc}") from exc
    applied: list[int] = []
    for migration in available():
        if target is not None and migration.level > target:
            break
        if migration.level <= schema_level(conn):
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            # re-check under the write lock: another process may have migrated meanwhile
            if migration.level <= schema_level(conn):
                conn.execute("ROLLBACK")
                continue
            for statement in _statements(migration.sql):
                conn.execute(statement)
            conn.execute(f"PRAGMA application_id = {SCHEMA_APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {migration.level}")
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            raise StoreError(
                f"{path}: migration {migration.level:04d}_{migration.name} failed: {exc}"
            ) from exc
        applied.append(migration.level)
    return applied
