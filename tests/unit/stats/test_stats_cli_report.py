"""appliancectl report: every kind and format from a hand-built log; clear errors, help text."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from statslog import EventLog, cdr, schema_database

from appliance.cli.common import Context
from appliance.cli.report import report
from appliance.runtime.clock import VirtualClock

T0 = 1_767_225_600.0


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    path = str(tmp_path / "a.db")
    db = schema_database(path)
    log = EventLog(db)
    log.event(T0, "AGENTLOGIN", "", "", "a1", "sip/a1")
    log.answered("c1", "sales", "a1", T0 + 10, wait=12, ring=4, talk=60)
    log.answered("c2", "support", "a1", T0 + 3700, wait=30, ring=4, talk=60)
    log.abandoned("c3", "sales", T0 + 20, wait=40)
    log.event(T0 + 7000, "AGENTLOGOFF", "", "", "a1", "sip/a1", 7000)
    log.flush()
    cdr(db, "c1", start=T0 + 5, answer=T0 + 22, end=T0 + 82, agent="a1", queue="sales")
    db.table("ivr_visits").insert({"at": T0 + 6, "call_id": "c1", "flow": "main", "node": "menu",
                             "result": "1"})
    db.conn.close()
    return path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(report, list(args), obj=Context(None))
    return result.exit_code, result.output


def test_queue_report_json_has_every_queue_and_the_all_line(db_path: str) -> None:
    code, out = run("queue", "--from", "2026-01-01", "--to", "2026-01-02", "--db", db_path,
                    "--tz", "utc", "--json")
    assert code == 0, out
    rows = {r["queue"]: r for r in json.loads(out)["rows"]}
    assert rows["sales"]["offered"] == 2 and rows["sales"]["service_level"] == 0.5
    assert rows["(all)"]["offered"] == 3 and rows["(all)"]["answered"] == 2


def test_queue_report_by_hour_as_csv(db_path: str) -> None:
    code, out = run("queue", "--from", str(T0), "--to", str(T0 + 7200), "--by", "hour",
                    "--format", "csv", "--db", db_path, "--tz", "utc")
    assert code == 0, out
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["interval"], r["queue"], r["offered"]) for r in rows] == [
        ("2026-01-01 00:00", "sales", "2"), ("2026-01-01 00:00", "(all)", "2"),
        ("2026-01-01 01:00", "support", "1"), ("2026-01-01 01:00", "(all)", "1")]


def test_table_output_shows_percent_and_seconds(db_path: str) -> None:
    code, out = run("queue", "--from", "2026-01-01", "--to", "2026-01-02", "--db", db_path,
                    "--tz", "utc", "--queue", "sales")
    assert code == 0, out
    assert "50.0%" in out and "12.0" in out and "SERVICE_LEVEL" in out


def test_html_report_is_one_file_with_inline_svg_charts(db_path: str, tmp_path: Path) -> None:
    target = tmp_path / "r.html"
    code, out = run("queue", "--from", "2026-01-01", "--to", "2026-01-02", "--by", "hour",
                    "--format", "html", "-o", str(target), "--db", db_path, "--tz", "utc")
    assert code == 0, out
    page = target.read_text()
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 1
    assert "service level" in page and "<script" not in page and "src=" not in page
    code, _ = run("agent", "--from", "2026-01-01", "--to", "2026-01-02", "--format", "html",
                  "-o", str(target), "--db", db_path, "--tz", "utc")
    assert code == 0 and "Agent occupancy" in target.read_text()


@pytest.mark.parametrize("kind", ["agent", "ivr", "trunk", "cdr"])
def test_other_reports(db_path: str, kind: str) -> None:
    code, out = run(kind, "--from", "2026-01-01", "--to", "2026-01-02", "--db", db_path,
                    "--tz", "utc", "--json")
    assert code == 0, out
    assert len(json.loads(out)["rows"]) == 1


def test_cdr_export_csv_to_file(db_path: str, tmp_path: Path) -> None:
    target = tmp_path / "cdr.csv"
    code, _ = run("cdr", "--from", "2026-01-01", "--to", "2026-01-02", "--format", "csv",
                  "-o", str(target), "--db", db_path, "--tz", "utc")
    assert code == 0
    (row,) = list(csv.DictReader(io.StringIO(target.read_text())))
    assert (row["call_id"], row["agent"], row["billsec"]) == ("c1", "a1", "60.0")


def test_impossible_range_and_bad_time_are_clear_errors(db_path: str, tmp_path: Path) -> None:
    code, out = run("queue", "--from", "2026-01-02", "--to", "2026-01-01", "--db", db_path)
    assert code == 4 and "impossible report range" in out
    code, out = run("queue", "--from", "yesterday", "--to", "2026-01-01", "--db", db_path)
    assert code == 4 and "cannot read time 'yesterday'" in out
    code, out = run("queue", "--from", "2026-01-01", "--to", "2026-01-02", "--db",
                    str(tmp_path / "none.db"))
    assert code == 1 and "does not exist" in out


def test_every_command_has_help_with_an_example() -> None:
    assert "Example:" in (report.help or "")
    for name, command in report.commands.items():
        assert "Example:" in (command.help or ""), name
        code, out = run(name, "--help")
        assert code == 0 and "--json" in out and "--from" in out


def test_agent_report_for_a_range_ending_later_stops_at_the_clock(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 12 item 4: a1 logged in at T0 and still is; at T0 + 1 h, 'today' holds 1 h."""
    path = str(tmp_path / "open.db")
    db = schema_database(path)
    log = EventLog(db)
    log.event(T0, "AGENTLOGIN", "", "", "a1", "fxs1")
    log.flush()
    db.conn.close()
    monkeypatch.setattr("appliance.cli.report.CLOCK", VirtualClock(start=3600.0, epoch=T0))
    code, out = run("agent", "--from", str(T0), "--to", str(T0 + 86400), "--db", path, "--json")
    assert code == 0, out
    (row,) = json.loads(out)["rows"]
    assert row["login_time"] == 3600 and row["idle_time"] == 3600


def test_cdr_table_shows_local_iso_times_and_json_keeps_numbers(db_path: str) -> None:
    """Issue 12 item 8: CDR times are read by people in the table, by scripts in JSON."""
    code, out = run("cdr", "--from", "2026-01-01", "--to", "2026-01-02", "--db", db_path,
                    "--tz", "utc")
    assert code == 0, out
    local = datetime.fromtimestamp(T0 + 5).astimezone().isoformat(sep=" ", timespec="seconds")
    assert local in out and str(T0 + 5) not in out
    code, out = run("cdr", "--from", "2026-01-01", "--to", "2026-01-02", "--db", db_path,
                    "--json")
    (row,) = json.loads(out)["rows"]
    assert row["start"] == T0 + 5
