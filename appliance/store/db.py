"""Opening the appliance database."""

from __future__ import annotations

import os
import sqlite3

import sqlite_utils

# PRAGMA application_id of an appliance database: ASCII "APL1" (SQLite file format §1.3.23)
SCHEMA_APPLICATION_ID = 0x41504C31
BUSY_TIMEOUT_MS = 5000


class StoreError(Exception):
    """The database is unusable: corrupt, foreign, too new, or unreachable."""


# Callers' numbers and password hashes: the appliance user writes, its group reads, no one
# else (SEC-1); SQLite gives the -wal and -shm files the database file's mode.
PRIVATE_FILE = 0o640
PRIVATE_DIR = 0o750


def create_private(path: str) -> None:
    """Create ``path`` empty with mode :data:`PRIVATE_FILE` unless it exists (umask aside)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return
    os.fchmod(fd, PRIVATE_FILE)
    os.close(fd)


def connect(path: str, *, readonly: bool = False) -> sqlite3.Connection:
    """A raw connection in autocommit mode (transactions are always explicit)."""
    if readonly:
        uri = f"file:{os.path.abspath(path)}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    else:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


def open_database(path: str, *, migrate_schema: bool = True) -> sqlite_utils.Database:
    """Open (creating if needed) the database at ``path``: WAL mode, latest schema level.

    Raises :class:`StoreError` for a file that is not an appliance database or
    whose schema is newer than this code.
    """
    from appliance.store.migrations import migrate

    if path != ":memory:":  # SQLite's in-memory database has no file
        os.makedirs(os.path.dirname(os.path.abspath(path)), mode=PRIVATE_DIR, exist_ok=True)
        create_private(path)
    try:
        conn = connect(path)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: cannot open database: {exc}") from exc
    if migrate_schema:
        migrate(conn, path)
    return sqlite_utils.Database(conn)
