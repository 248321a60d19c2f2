"""IVR node and trunk figures, CDR export (STAT by IVR node and trunk, STAT-D2)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import sqlite_utils
from statslog import cdr, schema_database

from appliance.stats import StatsError
from appliance.stats.ivr import ivr_report
from appliance.stats.trunks import cdr_rows, trunk_report, write_cdr_csv

T0 = 1_767_225_600.0


@pytest.fixture
def db(tmp_path: Path) -> sqlite_utils.Database:
    database = schema_database(str(tmp_path / "a.db"))
    database.table("ivr_visits").insert_all([
        {"at": T0 + 1, "call_id": "v1", "flow": "main", "node": "welcome", "result": "1"},
        {"at": T0 + 5, "call_id": "v1", "flow": "main", "node": "menu", "result": "timeout"},
        {"at": T0 + 15, "call_id": "v1", "flow": "main", "node": "menu", "result": "2"},
        {"at": T0 + 20, "call_id": "v2", "flow": "main", "node": "welcome", "result": "invalid"},
        {"at": T0 + 4000, "call_id": "v3", "flow": "main", "node": "welcome", "result": "1"},
    ])
    cdr(database, "t1", start=T0, answer=T0 + 2, end=T0 + 100)
    cdr(database, "t2", start=T0 + 50, answer=T0 + 52, end=T0 + 80, resolved=1)
    cdr(database, "t3", start=T0 + 60, end=T0 + 61, direction="outbound", disposition="BUSY")
    cdr(database, "t4", start=T0 + 10, answer=T0 + 11, end=T0 + 20, trunk="span2")
    cdr(database, "t5", start=T0 + 30, answer=T0 + 31, end=T0 + 40, trunk="",
        direction="internal")
    return database


def test_ivr_nodes(db: sqlite_utils.Database) -> None:
    rows = {(r.flow, r.node): r.figures for r in ivr_report(db, T0, T0 + 3600)}
    welcome, menu = rows[("main", "welcome")], rows[("main", "menu")]
    assert (welcome.visits, welcome.calls, welcome.invalid) == (2, 2, 1)
    assert welcome.results == {"1": 1, "invalid": 1}
    assert (menu.visits, menu.calls, menu.timeouts, menu.timeout_rate) == (2, 1, 1, 0.5)
    hourly = ivr_report(db, T0, T0 + 7200, by="hour", flow="main")
    assert [(r.interval, r.node, r.figures.visits) for r in hourly] == [
        ("2026-01-01 00:00", "menu", 2), ("2026-01-01 00:00", "welcome", 2),
        ("2026-01-01 01:00", "welcome", 1)]


def test_trunk_figures_and_peak(db: sqlite_utils.Database) -> None:
    rows = {r.trunk: r.figures for r in trunk_report(db, T0, T0 + 3600)}
    assert sorted(rows) == ["span1", "span2"]  # internal calls use no trunk
    span1 = rows["span1"]
    assert (span1.calls, span1.inbound, span1.outbound, span1.answered, span1.failed) == (
        3, 2, 1, 2, 1)
    assert span1.peak_busy == 3  # at +60 s: t1, t2 and t3 at once
    assert span1.erlangs == pytest.approx((100 + 30 + 1) / 3600)
    assert rows["span2"].peak_busy == 1


def test_cdr_export_csv(db: sqlite_utils.Database) -> None:
    out = io.StringIO()
    assert write_cdr_csv(out, cdr_rows(db, T0, T0 + 3600, trunk="span1")) == 3
    records = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["call_id"] for r in records] == ["t1", "t2", "t3"]
    assert records[2]["answer"] == "" and records[2]["disposition"] == "BUSY"
    assert records[1]["resolved"] == "1" and records[0]["billsec"] == "98.0"


def test_impossible_ranges_are_refused(db: sqlite_utils.Database) -> None:
    for call in (lambda: ivr_report(db, T0, T0 - 1), lambda: trunk_report(db, T0, T0),
                 lambda: list(cdr_rows(db, T0 + 5, T0))):
        with pytest.raises(StatsError, match="impossible report range"):
            call()
