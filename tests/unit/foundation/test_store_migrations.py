"""Migrations apply from an empty database and from every earlier level; bad files are refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from appliance.store import (
    SCHEMA_APPLICATION_ID,
    StoreError,
    latest_level,
    migrate,
    open_database,
    schema_level,
)
from appliance.store import migrations as migrations_module
from appliance.store.db import connect
from appliance.store.migrations import Migration, available


def tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE type='table'")}


def test_empty_database_is_migrated_to_the_latest_level_in_wal_mode(tmp_path: Path) -> None:
    db = open_database(str(tmp_path / "a.db"))
    assert schema_level(db.conn) == latest_level()
    assert db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.conn.execute("PRAGMA application_id").fetchone()[0] == SCHEMA_APPLICATION_ID
    assert {"audit_log", "service_events", "queue_log", "cdr", "ivr_visits"} <= set(
        db.table_names()
    )


@pytest.mark.parametrize("start", range(1, latest_level() + 1))
def test_migrating_from_every_earlier_level_gives_the_same_schema(
    tmp_path: Path, start: int
) -> None:
    fresh = connect(str(tmp_path / "fresh.db"))
    migrate(fresh)
    old = connect(str(tmp_path / "old.db"))
    migrate(old, target=start)
    assert schema_level(old) == start
    old.execute(
        "INSERT INTO audit_log (at, actor, origin, action) VALUES (1.0, 'x', 'cli', 'kept')"
    )
    applied = migrate(old)
    assert applied == list(range(start + 1, latest_level() + 1))
    schema = "SELECT type, name, sql FROM sqlite_schema ORDER BY type, name"
    assert old.execute(schema).fetchall() == fresh.execute(schema).fetchall()
    assert old.execute("SELECT action FROM audit_log").fetchall() == [("kept",)]


def test_migrations_are_numbered_without_gaps() -> None:
    assert [m.level for m in available()] == list(range(1, latest_level() + 1))


def test_a_failing_migration_leaves_the_previous_level_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = connect(str(tmp_path / "a.db"))
    migrate(conn, target=1)
    broken = [
        *available()[:1],
        Migration(2, "broken", "CREATE TABLE half (x INTEGER);\nINSERT INTO nowhere VALUES (1);\n"),
    ]
    monkeypatch.setattr(migrations_module, "available", lambda: broken)
    monkeypatch.setattr(migrations_module, "latest_level", lambda: 2)
    with pytest.raises(StoreError, match="migration 0002_broken failed: no such table: nowhere"):
        migrate(conn)
    assert schema_level(conn) == 1
    assert "half" not in tables(conn)


def test_foreign_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE customers (name TEXT)")
    other.commit()
    other.close()
    with pytest.raises(StoreError, match="not an appliance database"):
        open_database(str(path))
    assert tables(sqlite3.connect(path)) == {"customers"}


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    open_database(str(path)).conn.execute(f"PRAGMA user_version = {latest_level() + 1}")
    with pytest.raises(StoreError, match=f"schema level {latest_level() + 1} is newer"):
        open_database(str(path))


def test_garbage_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "garbage.db"
    path.write_bytes(b"this is not a database at all" * 200)
    with pytest.raises(StoreError, match=r"garbage\.db"):
        open_database(str(path))
    assert path.read_bytes().startswith(b"this is not a database")
