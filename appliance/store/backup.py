"""Online backup, integrity check and all-or-nothing restore (ADM-3)."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from dataclasses import dataclass

from appliance.store.db import PRIVATE_FILE, StoreError, connect
from appliance.store.migrations import check_identity, latest_level, migrate, schema_level


@dataclass(frozen=True)
class CheckReport:
    path: str
    integrity: list[str]  # 'ok' or the problems PRAGMA integrity_check found
    foreign_keys: int  # rows violating foreign keys
    level: int  # schema level of the file
    latest: int  # schema level of this software

    @property
    def ok(self) -> bool:
        return self.integrity == ["ok"] and self.foreign_keys == 0 and self.level == self.latest


def check(path: str) -> CheckReport:
    """Integrity and schema level of the database at ``path`` (read-only)."""
    if not os.path.exists(path):
        raise StoreError(f"{path}: no such database file")
    try:
        conn = connect(path, readonly=True)
        try:
            check_identity(conn, path)
            integrity = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            fk = len(conn.execute("PRAGMA foreign_key_check").fetchall())
            level = schema_level(conn)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: not a readable SQLite database: {exc}") from exc
    return CheckReport(path, integrity, fk, level, latest_level())


def backup(source_path: str, target_path: str) -> CheckReport:
    """Copy a live database with SQLite's online backup API.

    The copy is one consistent snapshot even while daemons write (the backup
    restarts if the source changes under it). It is written beside the target
    and renamed into place only once it passes the integrity check.
    """
    if not os.path.exists(source_path):
        raise StoreError(f"{source_path}: no such database file")
    target_dir = os.path.dirname(os.path.abspath(target_path))
    fd, temp_path = tempfile.mkstemp(prefix=".backup-", suffix=".db", dir=target_dir)
    os.close(fd)
    try:
        source = connect(source_path, readonly=True)
        dest = sqlite3.connect(temp_path)
        try:
            source.backup(dest)
            dest.execute("PRAGMA journal_mode = DELETE")
        finally:
            dest.close()
            source.close()
        report = check(temp_path)
        if report.integrity != ["ok"]:
            raise StoreError(
                f"{source_path}: backup copy failed its integrity check: {report.integrity[:3]}"
            )
        os.chmod(temp_path, PRIVATE_FILE)  # mkstemp's 0600 would shut out the group
        os.replace(temp_path, target_path)
    except BaseException:
        if os.path.exists(temp_path):
            os.unlink(temp_path)
        raise
    return check(target_path)


def restore(backup_path: str, database_path: str) -> CheckReport:
    """Replace the database's content with a backup, all or nothing.

    Refused when the backup fails the integrity check, is not an appliance
    database, or has a newer schema than this code. The backup is migrated to
    the current level in a scratch copy first; the live database is then
    overwritten by one backup-API transaction, so readers see either the old
    content or the new, never a mixture, and a failure leaves the old one.
    """
    report = check(backup_path)
    if report.integrity != ["ok"]:
        raise StoreError(
            f"{backup_path}: refused, integrity check failed: {'; '.join(report.integrity[:3])}"
        )
    if report.foreign_keys:
        raise StoreError(f"{backup_path}: refused, {report.foreign_keys} foreign-key violations")
    directory = os.path.dirname(os.path.abspath(database_path))
    os.makedirs(directory, exist_ok=True)
    fd, scratch = tempfile.mkstemp(prefix=".restore-", suffix=".db", dir=directory)
    os.close(fd)
    try:
        source = connect(backup_path, readonly=True)
        staged = connect(scratch)
        try:
            source.backup(staged)
        finally:
            source.close()
        try:
            migrate(staged, backup_path)
            staged_integrity = [row[0] for row in staged.execute("PRAGMA integrity_check")]
            if staged_integrity != ["ok"]:
                raise StoreError(
                    f"{backup_path}: refused, migrated copy failed its integrity check"
                )
            live = connect(database_path)
            try:
                live.execute("PRAGMA journal_mode = WAL")
                staged.backup(live)
            finally:
                live.close()
        finally:
            staged.close()
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            if os.path.exists(scratch + suffix):
                os.unlink(scratch + suffix)
    return check(database_path)
