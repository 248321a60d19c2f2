"""appliancectl rec: search, play, export, delete, verify, retention, QA; clear errors; help."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import tarfile
import wave
from pathlib import Path

import pytest
from click.testing import CliRunner
from recdb import make_recording, recordings_database

from appliance.cli.common import Context
from appliance.cli.rec import rec
from appliance.recording import RecordingIndex

T0 = 1_767_225_600.0


@pytest.fixture
def paths(tmp_path: Path) -> tuple[str, str]:
    db_path, root = str(tmp_path / "a.db"), str(tmp_path / "rec")
    db = recordings_database(db_path)
    index = RecordingIndex(db)
    make_recording(index, root, "c1", start=T0, agent="a1", caller="0611111111", seconds=0.5)
    make_recording(index, root, "c2", start=T0 + 3600, agent="a2", caller="0622222222")
    db.conn.close()
    return db_path, root


def run(paths: tuple[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(rec, [*args, "--db", paths[0], "--recordings", paths[1]],
                                obj=Context(None))
    return result.exit_code, result.output


def test_search_json_and_table(paths: tuple[str, str]) -> None:
    code, out = run(paths, "search", "--agent", "a1", "--json")
    assert code == 0, out
    (row,) = json.loads(out)
    assert (row["call_id"], row["caller"], row["status"]) == ("c1", "0611111111", "complete")
    code, out = run(paths, "search", "--from", "2026-01-01T00:30", "--to", "2026-01-02")
    assert code == 0 and "c2" in out and "c1" not in out and "2026-01-01 01:00:00" in out
    code, out = run(paths, "search", "--from", "2026-01-02", "--to", "2026-01-01")
    assert code == 4 and "impossible search range" in out


def test_play_to_a_wav_file(paths: tuple[str, str], tmp_path: Path) -> None:
    target = str(tmp_path / "out.wav")
    code, out = run(paths, "play", "1", "-o", target)
    assert code == 0, out
    with wave.open(target) as wav:
        assert (wav.getnchannels(), wav.getnframes()) == (2, 4000)


def test_play_to_stdout_is_a_wav_stream(paths: tuple[str, str]) -> None:
    result = CliRunner().invoke(rec, ["play", "1", "--db", paths[0], "--recordings", paths[1]],
                                obj=Context(None))
    assert result.exit_code == 0
    with wave.open(io.BytesIO(result.stdout_bytes)) as wav:
        assert wav.getnframes() == 4000


def test_play_a_corrupt_file_is_a_clear_error(paths: tuple[str, str], tmp_path: Path) -> None:
    Path(paths[1], "2026/01/01/c1-1.wav").write_bytes(b"RIFF\x00")
    code, out = run(paths, "play", "1", "-o", str(tmp_path / "x.wav"))
    assert code == 1 and "recording 1" in out and "not a WAV file" in out


def test_export_delete_verify(paths: tuple[str, str], tmp_path: Path) -> None:
    archive = str(tmp_path / "x.tar.gz")
    code, out = run(paths, "export", archive, "--agent", "a2", "--json")
    assert code == 0 and json.loads(out)["count"] == 1
    with tarfile.open(archive) as tar:
        assert "manifest.json" in tar.getnames() and "SHA256SUMS" in tar.getnames()
    code, out = run(paths, "delete", "1", "--yes")
    assert code == 0 and "deleted recording 1" in out
    assert not os.path.exists(os.path.join(paths[1], "2026/01/01/c1-1.wav"))
    code, out = run(paths, "verify", "--json")
    assert code == 0 and json.loads(out)["ok"] is True
    Path(paths[1], "2026/01/01/stray.wav").write_bytes(b"x")
    code, out = run(paths, "verify")
    assert code == 4 and "orphaned file (not in the index): 2026/01/01/stray.wav" in out
    audit = sqlite3.connect(paths[0]).execute("SELECT action, target FROM audit_log").fetchall()
    assert ("rec.delete", "1") in audit and ("rec.export", archive) in audit


def test_delete_unknown_recording_fails_clearly(paths: tuple[str, str]) -> None:
    code, out = run(paths, "delete", "99", "--yes")
    assert code == 1 and "recording 99 is not in the index" in out


def test_missing_folder_and_database_are_clear_errors(paths: tuple[str, str],
                                                      tmp_path: Path) -> None:
    code, out = run((paths[0], str(tmp_path / "gone")), "verify")
    assert code == 1 and "does not exist" in out
    code, out = run((str(tmp_path / "none.db"), paths[1]), "search")
    assert code == 1 and "does not exist" in out
    bare = str(tmp_path / "bare.db")
    sqlite3.connect(bare).execute("CREATE TABLE t (x)")
    code, out = run((bare, paths[1]), "search")
    assert code == 4 and "db migrate" in out


def test_qa_sample_score_report(paths: tuple[str, str]) -> None:
    code, out = run(paths, "qa", "sample", "--from", "2026-01-01", "--to", "2026-01-02",
                    "--percent", "100", "--json")
    assert code == 0 and len(json.loads(out)) == 2
    code, out = run(paths, "qa", "score", "1", "--scorecard", "basic", "--item", "greeting=1")
    assert code == 4 and "unknown scorecard 'basic'" in out
    code, out = run(paths, "qa", "report", "--from", "2026-01-01", "--to", "2026-01-02", "--json")
    assert code == 0 and json.loads(out)["a1"]["samples"] == 1


def test_every_command_has_help_with_an_example() -> None:
    def walk(group: object, prefix: list[str]) -> list[tuple[list[str], object]]:
        found: list[tuple[list[str], object]] = []
        for name, command in getattr(group, "commands", {}).items():
            found.append(([*prefix, name], command))
            found.extend(walk(command, [*prefix, name]))
        return found

    assert "Example:" in (rec.help or "")
    for path, command in walk(rec, []):
        assert "Example:" in (getattr(command, "help", "") or ""), path
        result = CliRunner().invoke(rec, [*path, "--help"], obj=Context(None))
        assert result.exit_code == 0, path
        if not hasattr(command, "commands"):
            assert "--json" in result.output, path


def test_erasure_request_deletes_every_recording_of_a_caller(paths: tuple[str, str]) -> None:
    code, out = run(paths, "delete", "--caller", "0622222222", "--yes", "--json")
    assert code == 0 and json.loads(out) == {"deleted": [2], "errors": []}
    code, out = run(paths, "search", "--json")
    assert [r["call_id"] for r in json.loads(out)] == ["c1"]
    code, out = run(paths, "delete", "--yes")
    assert code == 4 and "at least one search option" in out
    code, out = run(paths, "delete", "1", "--agent", "a1", "--yes")
    assert code == 4 and "not both" in out


def test_search_by_display_name_and_ambiguous_names(paths: tuple[str, str],
                                                     tmp_path: Path) -> None:
    """Issue 12 item 6: --agent takes an agent id or the display name of [acd.agents]."""
    config = tmp_path / "appliance.toml"
    config.write_text('[[acd.agents]]\nid = "1001"\nname = "Ada"\n'
                      '[[acd.agents]]\nid = "1002"\nname = "Grace"\n'
                      '[[acd.agents]]\nid = "1003"\nname = "Grace"\n', encoding="utf-8")
    db = sqlite3.connect(paths[0])
    with db:
        db.execute("UPDATE recordings SET agent = '1001' WHERE call_id = 'c1'")
    db.close()

    def search(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(rec, ["search", *args, "--db", paths[0], "--recordings",
                                          paths[1]], obj=Context(str(config)))
        return result.exit_code, result.output

    for agent in ("Ada", "ada", "1001"):
        code, out = search("--agent", agent, "--json")
        assert code == 0, out
        assert [r["call_id"] for r in json.loads(out)] == ["c1"], agent
    code, out = search("--agent", "Grace")
    assert code == 4 and "agents 1002, 1003 share that name" in out
    code, out = search("--agent", "Nobody", "--json")
    assert code == 0 and json.loads(out) == []
