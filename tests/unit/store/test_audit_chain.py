"""The audit log is append-only and hash-chained (issue 13 item 3, ADM-2)."""

from __future__ import annotations

import os
import pwd
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import minimal_config

from appliance.cli.main import cli
from appliance.store import open_database
from appliance.store.audit import current_actor, record, verify
from appliance.store.db import connect
from appliance.store.migrations import migrate


def _db(tmp_path: Path) -> str:
    path = str(tmp_path / "appliance.db")
    db = open_database(path)
    for n in range(5):
        record(db, f"action.{n}", target=f"t{n}", actor="alice", detail={"n": n})
    db.conn.close()
    return path


def test_rows_chain_and_verify_passes(tmp_path: Path) -> None:
    conn = connect(_db(tmp_path))
    verdict = verify(conn)
    assert verdict.ok and verdict.chained == 5 and verdict.legacy == 0
    rows = conn.execute("SELECT prev_hash, hash FROM audit_log ORDER BY id").fetchall()
    assert rows[0][0] == ""
    assert all(rows[i][0] == rows[i - 1][1] for i in range(1, 5))
    assert verdict.head == rows[-1][1]


@pytest.mark.parametrize("statement", [
    "UPDATE audit_log SET outcome = 'ok' WHERE id = 2",
    "DELETE FROM audit_log WHERE id = 2",
    "DELETE FROM audit_chain",
])
def test_update_and_delete_are_refused(tmp_path: Path, statement: str) -> None:
    conn = connect(_db(tmp_path))
    with pytest.raises(sqlite3.IntegrityError, match=r"append-only|fixed at migration"):
        conn.execute(statement)
    assert verify(conn).ok


def _tampered_copy(tmp_path: Path, *statements: str) -> str:
    """What an attacker with file access does: drop the triggers in a copy and edit."""
    copy = str(tmp_path / "tampered.db")
    shutil.copy(_db(tmp_path), copy)
    conn = connect(copy)
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("DROP TRIGGER audit_log_no_delete")
    for statement in statements:
        conn.execute(statement)
    conn.close()
    return copy


@pytest.mark.parametrize(("statements", "broken", "why"), [
    (["UPDATE audit_log SET actor = 'mallory' WHERE id = 3"], 3, "edited"),
    (["DELETE FROM audit_log WHERE id = 2"], 3, "removed"),
    (["UPDATE audit_log SET hash = NULL, prev_hash = NULL"], 1, "no hash"),
    (["INSERT INTO audit_log (id, at, actor, origin, action) VALUES (99, 1, 'x', 'cli', 'x')"],
     99, "no hash"),
])
def test_an_edited_row_breaks_the_chain_at_that_row(
    tmp_path: Path, statements: list[str], broken: int, why: str
) -> None:
    verdict = verify(connect(_tampered_copy(tmp_path, *statements)))
    assert not verdict.ok
    assert verdict.broken_id == broken
    assert why in verdict.reason


def test_rows_from_before_the_chain_are_counted_not_failed(tmp_path: Path) -> None:
    path = str(tmp_path / "old.db")
    conn = connect(path)
    migrate(conn, path, target=8)
    conn.execute("INSERT INTO audit_log (at, actor, origin, action) VALUES (1.0, 'x', 'cli', 'old')")
    migrate(conn, path)
    db = open_database(path)
    record(db, "new", actor="alice")
    verdict = verify(db.conn)
    assert verdict.ok and verdict.legacy == 1 and verdict.chained == 1


def test_concurrent_writers_form_one_chain(tmp_path: Path) -> None:
    path = _db(tmp_path)

    def write(name: str) -> None:
        db = open_database(path)
        for n in range(20):
            record(db, "x", target=f"{name}{n}", actor=name)

    threads = [threading.Thread(target=write, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    verdict = verify(connect(path))
    assert verdict.ok and verdict.chained == 85


def test_the_local_actor_is_the_real_uid_not_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USER", "spoofed")
    monkeypatch.setenv("LOGNAME", "spoofed")
    assert current_actor() == pwd.getpwuid(os.getuid()).pw_name


def test_appliancectl_audit_verify_names_the_first_broken_row(tmp_path: Path) -> None:
    config = minimal_config(tmp_path)
    db_path = str(tmp_path / "state" / "appliance.db")
    db = open_database(db_path)
    for n in range(3):
        record(db, f"action.{n}", actor="alice")
    runner = CliRunner()
    intact = runner.invoke(cli, ["--config", str(config), "audit", "verify"])
    assert intact.exit_code == 0, intact.output
    assert "audit log intact: 3 row(s) chained" in intact.output
    conn = connect(db_path)
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("UPDATE audit_log SET outcome = 'refused: nothing' WHERE id = 2")
    broken = runner.invoke(cli, ["--config", str(config), "audit", "verify"])
    assert broken.exit_code == 1
    assert "audit log broken at row 2: hash does not match" in broken.output
    assert '"action": "action.1"' in broken.output
    listed = runner.invoke(cli, ["--config", str(config), "audit", "--json"])
    assert listed.exit_code == 0 and '"action.2"' in listed.output
