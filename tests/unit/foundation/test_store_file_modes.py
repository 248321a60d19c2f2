"""Database, backups and recording folders are private to the appliance user and group
(issue 13 item 4: appliance.db was 0644, callers' numbers and password hashes world-readable)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from appliance.store import open_database
from appliance.store.backup import backup


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_database_its_folder_and_backups_are_not_world_readable(tmp_path: Path) -> None:
    old = os.umask(0o022)  # a default umask: the modes must not depend on it
    try:
        db_path = tmp_path / "state" / "appliance.db"
        db = open_database(str(db_path))
        db.table("service_events").insert({"at": 1.0, "daemon": "telephonyd", "event": "x",
                                           "detail": "{}"})
        copy = tmp_path / "state" / "copy.db"
        backup(str(db_path), str(copy))
    finally:
        os.umask(old)
    assert mode(db_path.parent) == 0o750
    assert mode(db_path) == 0o640
    assert mode(Path(f"{db_path}-wal")) == 0o640
    assert mode(copy) == 0o640
