"""Search, delete, verify, retention and export keep files and index in agreement (REC-2, SEC-3)."""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
from pathlib import Path

import pytest
from recdb import make_recording, recordings_database

from appliance.config.sections.recording import RecordingSection, RetentionRule
from appliance.recording import (
    RecordingError,
    RecordingIndex,
    SearchFilter,
    apply_retention,
    delete,
    export,
    verify,
)

T0 = 1_767_225_600.0
DAY = 86400.0


@pytest.fixture
def store(tmp_path: Path) -> tuple[RecordingIndex, str]:
    index = RecordingIndex(recordings_database(str(tmp_path / "a.db")))
    root = str(tmp_path / "rec")
    make_recording(index, root, "c1", start=T0, queue="sales", agent="a1", caller="0611111111")
    make_recording(index, root, "c2", start=T0 + DAY, queue="sales", agent="a2",
                   caller="0622222222", extension="202")
    make_recording(index, root, "c3", start=T0 + 2 * DAY, queue="support", agent="a1",
                   caller="0711111111")
    return index, root


def calls(recs: list) -> list[str]:  # type: ignore[type-arg]
    return [r.call_id for r in recs]


def test_search_by_every_criterion(store: tuple[RecordingIndex, str]) -> None:
    index, _ = store
    assert calls(index.search(SearchFilter(agent="a1"))) == ["c1", "c3"]
    assert calls(index.search(SearchFilter(extension="202"))) == ["c2"]
    assert calls(index.search(SearchFilter(queue="sales"))) == ["c1", "c2"]
    assert calls(index.search(SearchFilter(caller="06*"))) == ["c1", "c2"]
    assert calls(index.search(SearchFilter(caller="0711111111"))) == ["c3"]
    assert calls(index.search(SearchFilter(call_id="c2"))) == ["c2"]
    assert calls(index.search(SearchFilter(start=T0 + DAY, end=T0 + 2 * DAY))) == ["c2"]
    assert calls(index.search(SearchFilter(agent="a1", queue="support"))) == ["c3"]
    with pytest.raises(RecordingError, match="impossible search range"):
        index.search(SearchFilter(start=T0 + DAY, end=T0))


def test_delete_removes_file_and_row_together(store: tuple[RecordingIndex, str]) -> None:
    index, root = store
    rec = index.search(SearchFilter(call_id="c2"))[0]
    delete(index, root, rec.id)
    assert not os.path.exists(os.path.join(root, rec.path))
    assert calls(index.all()) == ["c1", "c3"]
    with pytest.raises(RecordingError, match="not in the index"):
        delete(index, root, rec.id)
    assert verify(index, root).ok


def test_a_file_that_cannot_be_deleted_keeps_its_row(store: tuple[RecordingIndex, str]) -> None:
    index, root = store
    rec = index.search(SearchFilter(call_id="c1"))[0]
    path = os.path.join(root, rec.path)
    os.unlink(path)
    os.mkdir(path)  # a directory in its place: unlink fails with EISDIR
    with pytest.raises(RecordingError, match="index row kept"):
        delete(index, root, rec.id)
    assert "c1" in calls(index.all())


def test_verify_finds_missing_orphaned_altered_and_unreadable(
        store: tuple[RecordingIndex, str]) -> None:
    index, root = store
    c1, c2, c3 = index.all()
    os.unlink(os.path.join(root, c1.path))
    with open(os.path.join(root, c2.path), "r+b") as handle:
        handle.seek(100)
        handle.write(b"\x7f\x7f")
    orphan = os.path.join(root, "2026/01/01/stray-1.wav")
    Path(orphan).write_bytes(b"RIFF")
    index.finish(c3.id, duration=1, size=4, checksum="", status="complete", ended=T0)
    Path(os.path.join(root, c3.path)).write_bytes(b"garbage")
    report = verify(index, root)
    assert not report.ok and report.checked == 3
    assert [r.call_id for r in report.missing] == ["c1"]
    assert [r.call_id for r in report.altered] == ["c2"]
    assert report.orphaned == ["2026/01/01/stray-1.wav"]
    assert [r.call_id for r, _ in report.unreadable] == ["c3"]
    assert "not a WAV file" in report.unreadable[0][1]
    fixed = verify(index, root, fix_missing=True)
    assert fixed.fixed == [c1.path] and "c1" not in calls(index.all())
    assert json.dumps(report.as_dict())


def test_verify_on_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    index = RecordingIndex(recordings_database(str(tmp_path / "a.db")))
    with pytest.raises(RecordingError, match="does not exist"):
        verify(index, str(tmp_path / "nowhere"))


def test_retention_by_age_per_queue(store: tuple[RecordingIndex, str]) -> None:
    index, root = store
    settings = RecordingSection(retention=RetentionRule(max_age_days=10),
                                queue_retention={"sales": RetentionRule(max_age_days=1.5)})
    deleted = apply_retention(index, root, settings, now=T0 + 2.4 * DAY)
    assert calls(deleted) == ["c1"]  # sales limit 1.5 days: c1 is 2.4 days old, c2 1.4
    assert calls(index.all()) == ["c2", "c3"]
    assert verify(index, root).ok


def test_retention_by_size_and_quota_deletes_oldest_first(store: tuple[RecordingIndex, str]) -> None:
    index, root = store
    one = index.all()[0].size  # every test recording has the same size
    per_queue = RecordingSection(queue_retention={"sales": RetentionRule(max_mb=one * 1.5 / 1e6)})
    assert calls(apply_retention(index, root, per_queue, now=T0)) == ["c1"]
    quota = RecordingSection(quota_mb=one * 1.2 / 1e6)
    assert calls(apply_retention(index, root, quota, now=T0)) == ["c2"]
    assert calls(index.all()) == ["c3"]
    assert verify(index, root).ok


def test_retention_never_touches_a_recording_in_progress(tmp_path: Path) -> None:
    index = RecordingIndex(recordings_database(str(tmp_path / "a.db")))
    index.add(call_id="live", segment=1, path="2026/01/01/live-1.wav", start=T0, format="pcm16",
              channels=2)
    settings = RecordingSection(retention=RetentionRule(max_age_days=1))
    assert apply_retention(index, str(tmp_path), settings, now=T0 + 30 * DAY) == []


def test_export_writes_manifest_and_checksums(store: tuple[RecordingIndex, str],
                                              tmp_path: Path) -> None:
    index, root = store
    archive = str(tmp_path / "out.tar.gz")
    manifest = export(root, index.search(SearchFilter(agent="a1")), archive)
    assert manifest["count"] == 2
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        sums = tar.extractfile("SHA256SUMS").read().decode().split("\n")  # type: ignore[union-attr]
        listed = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        for line in filter(None, sums):
            digest, name = line.split("  ")
            data = tar.extractfile(name).read()  # type: ignore[union-attr]
            assert hashlib.sha256(data).hexdigest() == digest
    assert sorted(names) == sorted(["SHA256SUMS", "manifest.json",
                                    "recordings/2026/01/01/c1-1.wav",
                                    "recordings/2026/01/01/c3-1.wav"])
    assert [r["call_id"] for r in listed["recordings"]] == ["c1", "c3"]


def test_export_refuses_altered_files_and_leaves_nothing(store: tuple[RecordingIndex, str],
                                                         tmp_path: Path) -> None:
    index, root = store
    rec = index.all()[0]
    with open(os.path.join(root, rec.path), "ab") as handle:
        handle.write(b"tampered")
    archive = tmp_path / "out.tar.gz"
    with pytest.raises(RecordingError, match="checksum"):
        export(root, [rec], str(archive))
    assert not archive.exists()
    with pytest.raises(RecordingError, match="nothing to export"):
        export(root, [], str(archive))
