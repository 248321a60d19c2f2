"""STAT-A1..A4 and STAT-D1 against a hand-built agent day whose answers are worked out by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlite_utils
from statslog import EventLog, cdr, schema_database

from appliance.runtime.clock import VirtualClock
from appliance.stats.agents import agent_events, agent_report, agent_stats

T0 = 1_767_225_600.0  # 2026-01-01 00:00:00 UTC


@pytest.fixture
def db(tmp_path: Path) -> sqlite_utils.Database:
    database = schema_database(str(tmp_path / "a.db"))
    log = EventLog(database)
    log.event(T0, "AGENTLOGIN", "", "", "a1", "sip/a1")
    log.event(T0 + 600, "PAUSE", "", "", "a1", "lunch")
    log.event(T0 + 900, "UNPAUSE", "", "", "a1", "lunch", 300)
    log.event(T0 + 990, "ENTERQUEUE", "x1", "sales", "", "0612", "3000", 0, "span1")
    log.event(T0 + 1000, "CONNECT", "x1", "sales", "a1", 10, "sip/a1", 3)
    log.event(T0 + 1050, "HOLD", "x1", "sales", "a1")
    log.event(T0 + 1080, "UNHOLD", "x1", "sales", "a1", 30)
    log.event(T0 + 1200, "COMPLETECALLER", "x1", "sales", "a1", 10, 200, 1)
    log.event(T0 + 1200, "WRAPUPSTART", "x1", "sales", "a1", 60)
    log.event(T0 + 1245, "WRAPUPEND", "x1", "sales", "a1", 45)
    log.event(T0 + 1500, "RINGNOANSWER", "x2", "sales", "a1", 15)
    log.event(T0 + 3600, "AGENTLOGOFF", "", "", "a1", "sip/a1", 3600)
    # a2 logged in across midnight; a3 is still logged in
    log.event(T0 - 1800, "AGENTLOGIN", "", "", "a2", "sip/a2")
    log.event(T0 + 1800, "AGENTLOGOFF", "", "", "a2", "sip/a2", 3600)
    log.event(T0 + 3000, "AGENTLOGIN", "", "", "a3", "sip/a3")
    log.flush()
    cdr(database, "x1", start=T0 + 990, answer=T0 + 1000, end=T0 + 1200, agent="a1",
        queue="sales", resolved=0)
    cdr(database, "o1", start=T0 + 2000, answer=T0 + 2010, end=T0 + 2100, agent="a1",
        direction="outbound", resolved=1)
    database.table("qa_evaluations").insert_all([
        {"call_id": "x1", "agent": "a1", "scorecard": "basic", "scorer": "sup",
         "scored_at": T0 + 3000, "score": 80.0},
        {"call_id": "o1", "agent": "a1", "scorecard": "basic", "scorer": "sup",
         "scored_at": T0 + 3100, "score": 90.0},
    ])
    return database


def test_agent_figures_match_the_hand_worked_answers(db: sqlite_utils.Database) -> None:
    a1 = agent_stats(db, T0, T0 + 3600, now=T0 + 3600)["a1"]
    assert a1.login_time == 3600  # A1
    assert a1.paused_time == 300
    assert (a1.inbound_time, a1.outbound_time) == (200, 90)
    assert a1.idle_time == 3600 - 200 - 90 - 300  # A1 idle = login - inbound - outbound - paused
    assert (a1.hold_count, a1.avg_hold) == (1, 30)  # A2
    assert (a1.avg_wrapup, a1.pause_count) == (45, 1)  # A3: wrap-up is not a pause
    assert a1.calls_handled == 2 and a1.calls_per_hour == pytest.approx(2.0)  # A4
    assert a1.aht == pytest.approx((200 + 90 + 45) / 2)
    assert a1.occupancy == pytest.approx((200 + 90 + 45) / (3600 - 300))
    assert a1.fcr == pytest.approx(0.5)
    assert a1.rona == 1
    assert a1.qa_score == pytest.approx(85.0)  # REC-3 scores appear in agent statistics


def test_login_is_clipped_to_the_range_and_open_sessions_close_at_now(
        db: sqlite_utils.Database) -> None:
    figures = agent_stats(db, T0, T0 + 3600, agents=["a2", "a3"], now=T0 + 3600)
    assert figures["a2"].login_time == 1800  # the half before midnight belongs to yesterday
    assert figures["a3"].login_time == 600  # still logged in: counted up to now, the end
    live = agent_stats(db, T0, T0 + 3600, agents=["a3"], now=T0 + 3300)
    assert live["a3"].login_time == 300


def test_a_range_ending_in_the_future_stops_every_figure_at_now(tmp_path: Path) -> None:
    """Issue 12 item 4: 'report agent' for today, asked at 10:00, counts login, pause,
    wrap-up and talk up to 10:00, not up to midnight; the clock is virtual."""
    clock = VirtualClock(start=0.0, epoch=T0 + 9 * 3600)  # 09:00
    database = schema_database(str(tmp_path / "now.db"))
    log = EventLog(database)
    log.event(clock.time(), "AGENTLOGIN", "", "", "b1", "fxs1")  # b1 stays logged in
    log.event(clock.time(), "AGENTLOGIN", "", "", "b2", "fxs2")
    log.event(clock.time() + 600, "PAUSE", "", "", "b2", "lunch")  # b2 paused since 09:10
    log.event(clock.time(), "AGENTLOGIN", "", "", "b3", "fxs3")
    log.event(clock.time() + 1200, "CONNECT", "k1", "sales", "b3", 5, "fxs3", 2)  # talking
    log.event(clock.time(), "AGENTLOGIN", "", "", "b4", "fxs4")
    log.event(clock.time() + 1800, "WRAPUPSTART", "k2", "sales", "b4", 600)  # in wrap-up
    log.event(clock.time(), "AGENTLOGIN", "", "", "b5", "fxs5")  # logs out at 09:30, paused
    log.event(clock.time() + 600, "PAUSE", "", "", "b5", "lunch")
    log.event(clock.time() + 1800, "AGENTLOGOFF", "", "", "b5", "fxs5", 1800)
    log.flush()
    clock.advance(3600)  # 10:00
    day = agent_stats(database, T0, T0 + 86400, now=clock.time())  # today, ending at midnight
    assert {a: f.login_time for a, f in day.items()} == {
        "b1": 3600, "b2": 3600, "b3": 3600, "b4": 3600, "b5": 1800}
    assert day["b2"].paused_time == 3000 and day["b2"].occupancy == 0
    assert day["b3"].inbound_time == 2400 and day["b3"].idle_time == 1200
    assert day["b3"].occupancy == pytest.approx(2400 / 3600)
    assert day["b4"].wrapup_time == 1800
    assert day["b5"].paused_time == 1200  # the logout ended the pause
    hourly = agent_report(database, T0, T0 + 86400, agents=["b1"], by="hour", now=clock.time())
    assert [(r.interval, r.figures.login_time) for r in hourly] == [("2026-01-01 09:00", 3600)]


def test_a_finished_call_counts_its_own_talk_not_the_open_connect(
        db: sqlite_utils.Database) -> None:
    a1 = agent_stats(db, T0, T0 + 3600, agents=["a1"], now=T0 + 86400)["a1"]
    assert a1.inbound_time == 200 and a1.login_time == 3600  # logged off: now changes nothing


def test_hourly_rows_split_the_state_times(db: sqlite_utils.Database) -> None:
    rows = agent_report(db, T0 - 3600, T0 + 3600, agents=["a2"], by="hour", now=T0 + 3600)
    assert [(r.interval, r.figures.login_time) for r in rows] == [
        ("2025-12-31 23:00", 1800.0), ("2026-01-01 00:00", 1800.0)]


def test_agent_event_detail(db: sqlite_utils.Database) -> None:
    events = agent_events(db, T0, T0 + 3600, agents=["a1"])
    assert [e.event for e in events] == [
        "AGENTLOGIN", "PAUSE", "UNPAUSE", "WRAPUPSTART", "WRAPUPEND", "RINGNOANSWER"]
    assert events[2].detail == "reason lunch, paused 300 s"
