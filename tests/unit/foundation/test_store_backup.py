"""Online backup while a writer inserts, and restores that are all or nothing."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from appliance.store import StoreError, latest_level, open_database
from appliance.store.backup import backup, check, restore
from appliance.store.db import connect
from appliance.store.migrations import migrate


def insert_pairs(path: str, stop: threading.Event, counter: list[int]) -> None:
    """Writes rows two at a time in one transaction: a consistent copy never holds an odd pair."""
    conn = connect(path)
    n = 0
    while not stop.is_set():
        conn.execute("BEGIN IMMEDIATE")
        for half in ("a", "b"):
            conn.execute(
                "INSERT INTO audit_log (at, actor, origin, action, target) VALUES (?, 'writer', 'daemon', ?, ?)",
                (float(n), f"pair.{half}", str(n)),
            )
        conn.execute("COMMIT")
        n += 1
        counter[0] = n
    conn.close()


def pairs_are_whole(path: str) -> int:
    conn = sqlite3.connect(path)
    rows = conn.execute(
        "SELECT target, count(*) FROM audit_log WHERE actor='writer' GROUP BY target"
    ).fetchall()
    assert all(count == 2 for _, count in rows), "a backup caught half a transaction"
    return len(rows)


def test_backup_taken_while_a_writer_inserts_restores_to_a_consistent_database(
    tmp_path: Path,
) -> None:
    live = str(tmp_path / "live.db")
    open_database(live)
    stop, counter = threading.Event(), [0]
    writer = threading.Thread(target=insert_pairs, args=(live, stop, counter))
    writer.start()
    try:
        while counter[0] < 200:
            time.sleep(0.005)
        report = backup(live, str(tmp_path / "backup.db"))
        written_during = counter[0]
    finally:
        stop.set()
        writer.join()
    assert report.ok
    in_backup = pairs_are_whole(str(tmp_path / "backup.db"))
    assert 200 <= in_backup <= counter[0]
    target = str(tmp_path / "restored.db")
    restored = restore(str(tmp_path / "backup.db"), target)
    assert restored.ok
    assert pairs_are_whole(target) == in_backup
    assert written_during >= in_backup


def test_restore_replaces_content_and_keeps_the_database_usable(tmp_path: Path) -> None:
    live = str(tmp_path / "live.db")
    db = open_database(live)
    db["audit_log"].insert({"at": 1.0, "actor": "a", "origin": "cli", "action": "before-backup"})
    backup(live, str(tmp_path / "b.db"))
    db["audit_log"].insert({"at": 2.0, "actor": "a", "origin": "cli", "action": "after-backup"})
    restore(str(tmp_path / "b.db"), live)
    actions = [r[0] for r in db.conn.execute("SELECT action FROM audit_log")]
    assert actions == ["before-backup"]
    db["audit_log"].insert({"at": 3.0, "actor": "a", "origin": "cli", "action": "still-writable"})


def test_restore_of_an_older_level_backup_migrates_it(tmp_path: Path) -> None:
    old = connect(str(tmp_path / "old.db"))
    migrate(old, target=1)
    old.execute("INSERT INTO audit_log (at, actor, origin, action) VALUES (1, 'a', 'cli', 'old')")
    old.close()
    report = restore(str(tmp_path / "old.db"), str(tmp_path / "live.db"))
    assert report.level == latest_level()


def content(path: str) -> list[tuple[object, ...]]:
    return sqlite3.connect(path).execute("SELECT action FROM audit_log ORDER BY id").fetchall()


@pytest.fixture
def live(tmp_path: Path) -> str:
    path = str(tmp_path / "live.db")
    open_database(path)["audit_log"].insert(
        {"at": 1.0, "actor": "a", "origin": "cli", "action": "precious"}
    )
    return path


def test_restore_refuses_a_corrupt_backup_and_leaves_the_database_untouched(
    tmp_path: Path, live: str
) -> None:
    bad = str(tmp_path / "bad.db")
    backup(live, bad)
    size = os.path.getsize(bad)
    with open(bad, "r+b") as handle:  # overwrite the middle of the schema/data pages
        handle.seek(size // 2)
        handle.write(os.urandom(size // 4))
        handle.seek(4096 + 100)
        handle.write(b"\xff" * 200)
    with pytest.raises(StoreError, match=r"refused|not a readable"):
        restore(bad, live)
    assert content(live) == [("precious",)]
    assert check(live).ok


def test_restore_refuses_a_newer_schema(tmp_path: Path, live: str) -> None:
    newer = str(tmp_path / "newer.db")
    backup(live, newer)
    sqlite3.connect(newer).execute(f"PRAGMA user_version = {latest_level() + 5}")
    with pytest.raises(StoreError, match="newer than this software"):
        restore(newer, live)
    assert content(live) == [("precious",)]


def test_restore_refuses_a_foreign_database(tmp_path: Path, live: str) -> None:
    foreign = tmp_path / "foreign.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE invoices (n INTEGER)")
    conn.commit()
    with pytest.raises(StoreError, match="not an appliance database"):
        restore(str(foreign), live)
    assert content(live) == [("precious",)]


def test_backup_of_a_missing_database_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no such database file"):
        backup(str(tmp_path / "absent.db"), str(tmp_path / "b.db"))
    assert not list(tmp_path.iterdir())
