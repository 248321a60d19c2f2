"""A tampered index row cannot reach files outside the recordings folder (issue 13 item 7).

An attacker with write access to the database points a row at a file of theirs
choosing: absolute, climbing out with ``..``, or through a symbolic link. Delete,
export, playback, verify, retention and crash recovery must all leave it alone.
"""

from __future__ import annotations

import os
import sqlite3
import tarfile
from pathlib import Path
from typing import Any

import pytest
from recdb import make_recording, recordings_database

from appliance.config.sections.recording import RecordingSection, RetentionRule
from appliance.recording import (
    RecordingError,
    RecordingIndex,
    apply_retention,
    delete,
    export,
    verify,
)
from appliance.recording.maintenance import playable_pcm
from appliance.recording.paths import recording_file
from appliance.recording.recorder import Recorder
from appliance.runtime.clock import VirtualClock

T0 = 1_767_225_600.0


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    path = tmp_path / "elsewhere" / "hostname"
    path.parent.mkdir()
    path.write_text("precious\n", encoding="utf-8")
    return path


class NoMedia:
    """Crash recovery taps nothing: the media engine is not needed."""

    def tap(self, caller: Any, agent: Any, sink: Any, *, mode: Any = "stereo",
            label: str = "") -> Any:
        raise AssertionError("recovery must not tap")

    def stop_tap(self, tap: Any) -> None:
        raise AssertionError("recovery must not tap")


def _attack(tmp_path: Path, sql: str, *params: object) -> None:
    """What an attacker with write access to the database does, with plain sqlite3."""
    with sqlite3.connect(tmp_path / "a.db") as conn:
        conn.execute(sql, params)


def _tampered(tmp_path: Path, stored: str) -> tuple[RecordingIndex, str, int]:
    index = RecordingIndex(recordings_database(str(tmp_path / "a.db")))
    root = str(tmp_path / "rec")
    rec_id = make_recording(index, root, "c1", start=T0)
    _attack(tmp_path, "UPDATE recordings SET path = ?, checksum = '' WHERE id = ?", stored, rec_id)
    return index, root, rec_id


def _ways_out(tmp_path: Path, victim: Path) -> list[str]:
    link = tmp_path / "rec" / "2026" / "link.wav"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(victim)
    return [str(victim), f"../elsewhere/{victim.name}", "2026/link.wav"]


@pytest.mark.parametrize("way", [0, 1, 2], ids=["absolute", "dot-dot", "symlink"])
def test_delete_export_and_playback_refuse_a_path_outside_the_folder(
    tmp_path: Path, victim: Path, way: int
) -> None:
    stored = _ways_out(tmp_path, victim)[way]
    index, root, rec_id = _tampered(tmp_path, stored)
    with pytest.raises(RecordingError, match=rf"recording {rec_id} .*outside the recordings"):
        delete(index, root, rec_id)
    assert index.get(rec_id).path == stored  # the row stays for the investigation
    archive = tmp_path / "out.tar.gz"
    with pytest.raises(RecordingError, match=rf"recording {rec_id} .*{stored}"):
        export(root, [index.get(rec_id)], str(archive))
    assert not archive.exists() and not Path(f"{archive}.partial").exists()
    with pytest.raises(RecordingError, match="outside the recordings folder"):
        playable_pcm(root, index.get(rec_id))
    assert victim.read_text(encoding="utf-8") == "precious\n"


def test_verify_and_retention_report_the_row_and_leave_the_file(tmp_path: Path,
                                                                   victim: Path) -> None:
    index, root, rec_id = _tampered(tmp_path, str(victim))
    report = verify(index, root)
    assert not report.ok
    [(rec, error)] = report.unreadable
    assert rec.id == rec_id and "outside the recordings folder" in error
    settings = RecordingSection(retention=RetentionRule(max_age_days=1))
    assert apply_retention(index, root, settings, now=T0 + 10 * 86400.0) == []
    assert victim.exists()


def test_crash_recovery_does_not_repair_a_file_outside_the_folder(tmp_path: Path,
                                                                   victim: Path) -> None:
    index, root, rec_id = _tampered(tmp_path, str(victim))
    _attack(tmp_path, "UPDATE recordings SET status = 'recording' WHERE id = ?", rec_id)
    recorder = Recorder(root, index, NoMedia(), RecordingSection(), VirtualClock())
    assert recorder.recover() == []
    assert index.get(rec_id).status == "lost"
    assert victim.read_text(encoding="utf-8") == "precious\n"


def test_a_path_inside_the_folder_resolves_and_exports(tmp_path: Path) -> None:
    index = RecordingIndex(recordings_database(str(tmp_path / "a.db")))
    root = str(tmp_path / "rec")
    rec_id = make_recording(index, root, "c1", start=T0)
    rec = index.get(rec_id)
    assert recording_file(root, rec) == os.path.realpath(os.path.join(root, rec.path))
    archive = tmp_path / "ok.tar.gz"
    export(root, [rec], str(archive))
    with tarfile.open(archive) as tar:
        assert f"recordings/{rec.path}" in tar.getnames()
