"""The daemon's refresh fills the hourly cache for every threshold pair the site uses."""

from __future__ import annotations

from pathlib import Path

from appliance.config import load_config_text
from appliance.stats.component import refresh, threshold_pairs
from appliance.store import open_database


def test_refresh_caches_closed_hours_for_the_default_and_per_queue_thresholds(tmp_path: Path) -> None:
    config = load_config_text("[stats]\nsl_seconds = 30\n[stats.queues.vip]\nsl_seconds = 10\nshort_abandon = 3\n")
    assert threshold_pairs(config) == {(30.0, 5.0), (10.0, 3.0)}
    path = str(tmp_path / "a.db")
    db = open_database(path)
    hour = 1_767_225_600.0
    for at, event in ((hour + 10, "ENTERQUEUE"), (hour + 20, "CONNECT"), (hour + 7200, "ENTERQUEUE")):
        db.table("queue_log").insert({"at": at, "call_id": f"c{at}", "queue": "sales", "event": event,
                                      "data1": "10" if event == "CONNECT" else "", "data3": "2"})
    until = refresh(path, threshold_pairs(config))
    assert until is not None and until >= hour + 3600  # the first hour is closed and cached
    cached = {(r[0], r[1]) for r in db.conn.execute("SELECT sl_seconds, short_abandon FROM stats_queue_cache")}
    assert cached == {(30.0, 5.0), (10.0, 3.0)}
