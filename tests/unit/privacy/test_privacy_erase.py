"""Erasure of a caller's number (SEC-3): every table, recordings, and what it cannot reach."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from appliance.privacy import ErasureError, checked_number, erase, masked, plan
from appliance.recording import RecordingIndex
from appliance.store import open_database
from appliance.store.audit import record
from appliance.store.backup import backup

NUMBER = "0612345678"


def _database(tmp_path: Path) -> tuple[str, sqlite3.Connection, RecordingIndex, Path]:
    path = str(tmp_path / "appliance.db")
    db = open_database(path)
    conn: sqlite3.Connection = db.conn
    root = tmp_path / "recordings"
    root.mkdir()
    for call_id, caller in (("c1", NUMBER), ("c2", "0699999999")):
        conn.execute(
            "INSERT INTO cdr (call_id, direction, caller, caller_name, callee, start, end, "
            "duration, billsec, disposition, queue, agent) "
            "VALUES (?, 'inbound', ?, 'Jo Customer', '4000', 1, 2, 1, 1, 'ANSWERED', 'sales', "
            "'1001')", (call_id, caller))
        conn.execute("INSERT INTO queue_log (at, call_id, queue, event, data1, data2) "
                     "VALUES (1, ?, 'sales', 'ENTERQUEUE', ?, '')", (call_id, caller))
    conn.execute("INSERT INTO ivr_visits (at, call_id, flow, node, result) "
                 f"VALUES (1, 'c1', 'main', 'callback', 'number {NUMBER}')")
    # a table a later migration might add: the scan finds it without being told
    conn.execute("CREATE TABLE callbacks (id INTEGER PRIMARY KEY, number TEXT)")
    conn.execute("INSERT INTO callbacks (number) VALUES (?)", (NUMBER,))
    conn.commit()
    index = RecordingIndex(conn)
    rec_id = index.add(call_id="c1", segment=1, path="c1-1.wav", start=1.0, format="alaw",
                       channels=2, agent="1001", caller=NUMBER)
    (root / "c1-1.wav").write_bytes(b"RIFF")
    conn.execute("UPDATE recordings SET status = 'complete' WHERE id = ?", (rec_id,))
    conn.commit()
    return path, conn, index, root


def test_the_number_goes_from_every_table_and_its_recordings_are_deleted(tmp_path: Path) -> None:
    path, conn, index, root = _database(tmp_path)
    erasure = plan(conn, index, NUMBER, path)
    assert erasure.call_ids == ["c1"]
    assert [r.call_id for r in erasure.recordings] == ["c1"]
    assert erasure.columns == {"callbacks.number": 1, "cdr.caller": 1, "ivr_visits.result": 1,
                               "queue_log.data1": 1, "recordings.caller": 1}
    changed = erase(conn, index, str(root), erasure)
    assert changed == {"callbacks.number": 1, "cdr.caller": 1, "ivr_visits.result": 1,
                       "queue_log.data1": 1}
    assert not (root / "c1-1.wav").exists()
    assert conn.execute("SELECT caller, caller_name FROM cdr WHERE call_id = 'c1'").fetchone() == (
        "[erased]", "")
    assert conn.execute("SELECT caller_name FROM cdr WHERE call_id = 'c2'").fetchone() == (
        "Jo Customer",)
    assert conn.execute("SELECT result FROM ivr_visits").fetchone() == ("number [erased]",)
    assert plan(conn, index, NUMBER, path).columns == {}


def test_backups_that_still_hold_it_are_named(tmp_path: Path) -> None:
    path, conn, index, _root = _database(tmp_path)
    copy = str(tmp_path / "nightly.db")
    backup(path, copy)
    db = open_database(path)
    record(db, "db.backup", target=copy)
    record(db, "db.backup", target=str(tmp_path / "deleted-since.db"))  # gone: not listed
    erasure = plan(conn, index, NUMBER, path)
    assert [(b.path, b.matches["cdr.caller"]) for b in erasure.backups] == [(copy, 1)]


def test_a_recording_still_being_written_refuses_the_whole_erasure(tmp_path: Path) -> None:
    path, conn, index, root = _database(tmp_path)
    conn.execute("UPDATE recordings SET status = 'recording'")
    conn.commit()
    with pytest.raises(ErasureError, match="still being written"):
        erase(conn, index, str(root), plan(conn, index, NUMBER, path))
    assert conn.execute("SELECT caller FROM cdr WHERE call_id = 'c1'").fetchone() == (NUMBER,)
    assert (root / "c1-1.wav").exists()


@pytest.mark.parametrize("number", ["201", "12ab5678", "+1234567890123456", "", "1234"])
def test_numbers_that_could_hit_extensions_or_are_not_numbers_are_refused(number: str) -> None:
    with pytest.raises(ErasureError, match="5 to 15 digits"):
        checked_number(number)


def test_the_audit_log_keeps_only_the_last_four_digits() -> None:
    assert masked(NUMBER) == "******5678"
