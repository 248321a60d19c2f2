"""Keeping files and index in agreement: delete, verify, retention, export, playback (REC-2, SEC-3).

Deletion removes the index row and the file in one database transaction: the
row is deleted, the file unlinked, then the transaction commits; if the file
cannot be removed the row stays. A crash between unlink and commit leaves a
row whose file is missing, which :func:`verify` reports (and ``--fix``
removes). Every stored path is resolved and must stay inside the recordings
folder (:func:`appliance.recording.paths.recording_file`): a tampered row is
refused by delete, export and playback, and reported by verify.
"""

from __future__ import annotations

import io
import json
import logging
import os
import tarfile
import time
import wave
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt

from appliance.config.sections.recording import RecordingSection, RetentionRule
from appliance.recording.index import Recording, RecordingError, RecordingIndex
from appliance.recording.paths import recording_file
from appliance.recording.sink import file_checksum
from appliance.recording.wav import WavError, read_audio

log = logging.getLogger("appliance.recording")


def delete(index: RecordingIndex, root: str, rec_id: int) -> Recording:
    """Remove recording ``rec_id``: file and index row together."""
    rec = index.get(rec_id)
    if rec.status == "recording":
        raise RecordingError(f"recording {rec_id} (call {rec.call_id}) is still being written; "
                             "stop it first")
    path = recording_file(root, rec)
    with index.transaction() as conn:
        conn.execute("DELETE FROM recordings WHERE id = ?", (rec_id,))
        try:
            os.unlink(path)
        except FileNotFoundError:
            log.warning("recording %s: file %s was already missing; index row removed", rec_id,
                        path)
        except OSError as exc:
            raise RecordingError(f"cannot delete {path}: {exc.strerror}; index row kept") from exc
    return rec


@dataclass
class VerifyReport:
    """What :func:`verify` found. ``ok`` only when nothing is missing, orphaned or altered."""

    checked: int = 0
    missing: list[Recording] = field(default_factory=list)  # row, no file
    orphaned: list[str] = field(default_factory=list)  # file, no row (relative paths)
    altered: list[Recording] = field(default_factory=list)  # checksum differs
    unreadable: list[tuple[Recording, str]] = field(default_factory=list)  # not a valid WAV
    fixed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.orphaned or self.altered or self.unreadable)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "checked": self.checked,
            "missing": [{"id": r.id, "path": r.path} for r in self.missing],
            "orphaned": self.orphaned,
            "altered": [{"id": r.id, "path": r.path, "checksum": r.checksum} for r in self.altered],
            "unreadable": [{"id": r.id, "path": r.path, "error": e} for r, e in self.unreadable],
            "fixed": self.fixed,
        }


def _files_under(root: str) -> set[str]:
    found: set[str] = set()
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if name.lower().endswith(".wav"):
                found.add(os.path.relpath(os.path.join(folder, name), root))
    return found


def verify(index: RecordingIndex, root: str, *, fix_missing: bool = False) -> VerifyReport:
    """Compare the index with the folder: missing, orphaned, altered and unreadable files."""
    if not os.path.isdir(root):
        raise RecordingError(f"recordings folder {root} does not exist; check paths.recordings_dir")
    report = VerifyReport()
    on_disk = _files_under(root)
    for rec in index.all():
        on_disk.discard(rec.path)
        report.checked += 1
        try:
            path = recording_file(root, rec)
        except RecordingError as exc:
            report.unreadable.append((rec, str(exc)))
            continue
        if not os.path.exists(path):
            report.missing.append(rec)
            continue
        if rec.status == "recording":
            continue  # being written: its checksum is taken when it closes
        if rec.checksum and file_checksum(path) != rec.checksum:
            report.altered.append(rec)
            continue
        try:
            read_audio(path)
        except WavError as exc:
            report.unreadable.append((rec, str(exc)))
    report.orphaned = sorted(on_disk)
    if fix_missing:
        for rec in report.missing:
            index.remove(rec.id)
            report.fixed.append(rec.path)
    return report


def _rule_for(settings: RecordingSection, queue: str) -> RetentionRule:
    return settings.queue_retention.get(queue, settings.retention)


def apply_retention(index: RecordingIndex, root: str, settings: RecordingSection,
                    now: float) -> list[Recording]:
    """Delete recordings beyond their queue's age and size limits, then beyond the quota.

    Oldest first; recordings still being written are never touched.
    """
    done = [r for r in index.all() if r.status != "recording"]
    doomed: dict[int, Recording] = {}
    by_queue: dict[str, list[Recording]] = {}
    for rec in done:
        by_queue.setdefault(rec.queue, []).append(rec)
    for queue, recs in by_queue.items():
        rule = _rule_for(settings, queue)
        if rule.max_age_days:
            limit = now - rule.max_age_days * 86400.0
            doomed.update({r.id: r for r in recs if r.start < limit})
        if rule.max_mb:
            kept = 0
            for rec in sorted(recs, key=lambda r: (r.start, r.id), reverse=True):
                if rec.id in doomed:
                    continue
                kept += rec.size
                if kept > rule.max_mb * 1_000_000:
                    doomed[rec.id] = rec
    if settings.quota_mb:
        total = sum(r.size for r in done if r.id not in doomed)
        for rec in sorted(done, key=lambda r: (r.start, r.id)):
            if total <= settings.quota_mb * 1_000_000:
                break
            if rec.id not in doomed:
                doomed[rec.id] = rec
                total -= rec.size
    deleted: list[Recording] = []
    for rec in sorted(doomed.values(), key=lambda r: (r.start, r.id)):
        try:
            deleted.append(delete(index, root, rec.id))
        except RecordingError as exc:
            log.error("retention could not delete recording %s: %s", rec.id, exc)
    if deleted:
        log.info("retention deleted %d recordings (%d bytes)", len(deleted),
                 sum(r.size for r in deleted))
    return deleted


def export(root: str, recs: Iterable[Recording], archive: str) -> dict[str, Any]:
    """A ``.tar.gz`` with the files, ``manifest.json`` (index rows) and ``SHA256SUMS``.

    Every file is checked against its index checksum first; an altered or missing
    file stops the export with an error naming it (nothing half-written is left).
    """
    chosen = list(recs)
    if not chosen:
        raise RecordingError("nothing to export: no recording matches")
    sums: list[str] = []
    files: list[tuple[str, Recording]] = []
    for rec in chosen:
        path = recording_file(root, rec)
        if not os.path.exists(path):
            raise RecordingError(f"recording {rec.id}: file {path} is missing; run rec verify")
        digest = file_checksum(path)
        if rec.checksum and digest != rec.checksum:
            raise RecordingError(f"recording {rec.id}: {path} does not match its checksum; "
                                 "run rec verify")
        sums.append(f"{digest}  recordings/{rec.path}")
        files.append((path, rec))
    created = time.time()
    manifest = {"created": created, "count": len(chosen),
                "recordings": [r.as_dict() for r in chosen]}
    partial = archive + ".partial"
    try:
        with tarfile.open(partial, "w:gz") as tar:
            for path, rec in files:
                tar.add(path, arcname=f"recordings/{rec.path}")
            for name, text in (("manifest.json", json.dumps(manifest, indent=2)),
                               ("SHA256SUMS", "\n".join(sums) + "\n")):
                data = text.encode()
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mtime = int(created)
                tar.addfile(info, io.BytesIO(data))
        os.replace(partial, archive)
    except OSError as exc:
        if os.path.exists(partial):
            os.unlink(partial)
        raise RecordingError(f"cannot write archive {archive}: {exc.strerror}") from exc
    return manifest


def playable_pcm(root: str, rec: Recording) -> tuple[int, npt.NDArray[np.int16]]:
    """Channels and ``(channels, samples)`` int16 audio of a recording (A-law decoded)."""
    path = recording_file(root, rec)
    try:
        fmt, audio = read_audio(path)
    except WavError as exc:
        raise RecordingError(f"recording {rec.id}: {exc}") from exc
    return fmt.channels, audio


def write_pcm_wav(out: BinaryIO, audio: npt.NDArray[np.int16], rate: int = 8000) -> None:
    """Standard 16-bit PCM WAV (playable anywhere) to a file object."""
    with wave.open(out, "wb") as wav:
        wav.setnchannels(audio.shape[0])
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(np.ascontiguousarray(audio.T).astype("<i2").tobytes())


def mono(audio: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
    """Both voices in one channel (for playback into a live call), with saturation."""
    summed = audio.astype(np.int32).sum(axis=0)
    mixed: npt.NDArray[np.int16] = np.clip(summed, -32768, 32767).astype(np.int16)
    return mixed
