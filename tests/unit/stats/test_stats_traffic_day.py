"""The traffic simulator's day (virtual time, real IVR and ACD) gives consistent statistics:
the SQL figures agree with an independent count over the raw rows, hourly rows add up to the
day, every offered call has exactly one outcome, and agent, trunk and IVR figures agree."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from appliance.stats.agents import agent_stats
from appliance.stats.ivr import ivr_report
from appliance.stats.queues import queue_report, queue_stats
from appliance.stats.trunks import trunk_report
from hil.traffic.simulate import Traffic, TrafficParams

SL, SHORT = 20.0, 5.0


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, float, float]:
    path = str(Path(tmp_path_factory.mktemp("traffic")) / "day.db")
    sim = Traffic(TrafficParams(agents=6, calls_per_hour=150, hours=3, seed=11,
                                sl_seconds=SL, short_abandon=SHORT), path)
    sim.run()
    start = sim.clock.time() - sim.clock.monotonic()
    return path, start, start + 6 * 3600  # long enough for every call to end


def test_queue_figures_agree_with_an_independent_count(day: tuple[str, float, float]) -> None:
    path, start, end = day
    conn = sqlite3.connect(path)
    figures = queue_stats(conn, start, end, sl_seconds=SL, short_abandon=SHORT)
    rows = conn.execute("SELECT queue, event, data1, data3 FROM queue_log").fetchall()
    for queue, f in figures.items():
        mine = [r for r in rows if r[0] == queue]
        connects = [float(r[2]) for r in mine if r[1] == "CONNECT"]
        abandons = [float(r[3]) for r in mine if r[1] == "ABANDON"]
        assert f.offered == sum(1 for r in mine if r[1] == "ENTERQUEUE") > 100
        assert f.answered == len(connects)
        assert f.answered_in_sl == sum(1 for w in connects if w <= SL)
        assert f.asa == pytest.approx(sum(connects) / len(connects))
        assert f.abandoned == len(abandons)
        assert f.abandoned_counted == sum(1 for w in abandons if w >= SHORT)
        assert f.longest_wait == pytest.approx(max(connects + abandons))
        # every call that entered left the queue exactly once
        assert f.offered == (f.answered + f.abandoned + f.timeouts + f.exit_key + f.exit_empty
                             + f.overflowed)
        assert 0.0 <= f.service_level <= 1.0  # type: ignore[operator]


def test_hours_add_up_to_the_day(day: tuple[str, float, float]) -> None:
    path, start, end = day
    conn = sqlite3.connect(path)
    total = queue_stats(conn, start, end)
    hourly = queue_report(conn, start, end, by="hour")
    assert len({r.interval for r in hourly}) >= 3
    for queue, f in total.items():
        parts = [r.figures for r in hourly if r.queue == queue]
        for name in ("offered", "answered", "abandoned", "answered_in_sl", "rona", "completed"):
            assert sum(getattr(p, name) for p in parts) == getattr(f, name), name
        assert sum(p.talk_s for p in parts) == pytest.approx(f.talk_s)
        assert max(p.longest_wait for p in parts) == f.longest_wait


def test_agents_trunks_and_ivr_agree_with_the_queues(day: tuple[str, float, float]) -> None:
    path, start, end = day
    conn = sqlite3.connect(path)
    queues = queue_stats(conn, start, end)
    agents = agent_stats(conn, start, end, now=end)
    assert sum(a.inbound_calls for a in agents.values()) == sum(
        q.completed for q in queues.values())
    assert sum(a.rona for a in agents.values()) == sum(q.rona for q in queues.values())
    for figures in agents.values():
        assert figures.login_time > 0 and figures.idle_time >= 0
        assert 0 < figures.occupancy <= 1  # type: ignore[operator]
    cdrs = conn.execute("SELECT count(*), count(answer) FROM cdr WHERE trunk != ''").fetchone()
    trunks = trunk_report(conn, start, end)
    assert sum(t.figures.calls for t in trunks) == cdrs[0]
    assert sum(t.figures.answered for t in trunks) == cdrs[1]
    visits = conn.execute("SELECT count(*) FROM ivr_visits").fetchone()[0]
    assert sum(r.figures.visits for r in ivr_report(conn, start, end)) == visits > 0
