"""STAT-Q1..Q11 against a hand-built event log whose answers are worked out by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
from statslog import EventLog, schema_database

from appliance.stats import StatsError, queue_report, queue_stats

T0 = 1_767_225_600.0  # 2026-01-01 00:00:00 UTC


@pytest.fixture
def log(tmp_path: Path) -> EventLog:
    events = EventLog(schema_database(str(tmp_path / "a.db")))
    events.answered("c1", "sales", "a1", T0 + 10, wait=12, ring=4, talk=60)
    events.answered("c2", "sales", "a1", T0 + 20, wait=30, ring=6, talk=120,
                    ronas=(("a2", 15.0),), hangup="COMPLETEAGENT")
    events.abandoned("c3", "sales", T0 + 30, wait=3)
    events.abandoned("c4", "sales", T0 + 40, wait=45)
    events.exit("EXITWITHTIMEOUT", "c5", "sales", T0 + 50, wait=300)
    events.answered("c6", "sales", "a2", T0 + 3500, wait=200, ring=5, talk=30)
    events.answered("c7", "support", "a3", T0 + 100, wait=5, ring=2, talk=10)
    events.answered("c8", "sales", "a1", T0 + 3700, wait=20, ring=3, talk=40)
    events.flush()
    return events


def test_queue_figures_match_the_hand_worked_answers(log: EventLog) -> None:
    sales = queue_stats(log.db, T0, T0 + 86400, sl_seconds=20, short_abandon=5)["sales"]
    assert sales.offered == 7  # Q1
    assert sales.answered == 4  # Q4
    assert sales.asa == pytest.approx((12 + 30 + 200 + 20) / 4)  # Q2
    assert sales.longest_wait == 300  # Q3: the timed-out call waited longest
    assert sales.avg_talk == pytest.approx((60 + 120 + 30 + 40) / 4)  # Q5
    assert sales.speed_of_answer == pytest.approx((4 + 6 + 5 + 3) / 4)  # Q6
    assert (sales.abandoned, sales.abandoned_counted) == (2, 1)  # Q7: 3 s is a short abandon
    assert sales.abandon_rate == pytest.approx(1 / 7)  # Q8
    assert sales.avg_abandon_time == pytest.approx((3 + 45) / 2)  # Q9
    assert sales.rona == 1  # Q10
    assert sales.answered_in_sl == 2  # 12 s and exactly 20 s
    assert sales.service_level == pytest.approx(2 / 7)  # Q11: abandons and timeout stay in offered
    assert sales.timeouts == 1


def test_longest_wait_counts_abandoned_calls(tmp_path: Path) -> None:
    events = EventLog(schema_database(str(tmp_path / "b.db")))
    events.answered("x1", "q", "a1", T0, wait=10, ring=2, talk=5)
    events.abandoned("x2", "q", T0 + 5, wait=95)
    events.flush()
    assert queue_stats(events.db, T0, T0 + 3600)["q"].longest_wait == 95


def test_service_level_and_short_abandon_are_per_queue(log: EventLog) -> None:
    figures = queue_stats(log.db, T0, T0 + 86400, sl_seconds={"sales": 30.0},
                          short_abandon={"sales": 2.0})
    assert figures["sales"].answered_in_sl == 3  # 12, 30 and 20 s within 30 s
    assert figures["sales"].abandoned_counted == 2  # 3 s is now above the 2 s threshold
    assert figures["support"].sl_seconds == 20.0  # default for queues not in the table


def test_calls_belong_to_the_hour_they_entered(log: EventLog) -> None:
    rows = queue_report(log.db, T0, T0 + 7200, queues=["sales"], by="hour")
    by_hour = {row.interval: row.figures for row in rows}
    assert sorted(by_hour) == ["2026-01-01 00:00", "2026-01-01 01:00"]
    assert (by_hour["2026-01-01 00:00"].offered, by_hour["2026-01-01 00:00"].answered) == (6, 3)
    assert (by_hour["2026-01-01 01:00"].offered, by_hour["2026-01-01 01:00"].answered) == (1, 1)
    assert by_hour["2026-01-01 01:00"].service_level == 1.0


def test_a_call_answered_after_the_range_still_counts_in_it(log: EventLog) -> None:
    first_hour = queue_stats(log.db, T0, T0 + 3600)["sales"]
    assert first_hour.answered == 3  # c6 entered at 00:58 and was answered at 01:02
    second_hour = queue_stats(log.db, T0 + 3600, T0 + 7200)["sales"]
    assert (second_hour.offered, second_hour.answered) == (1, 1)


def test_queue_filter_and_empty_queue(log: EventLog) -> None:
    figures = queue_stats(log.db, T0, T0 + 86400, queues=["support", "billing"])
    assert sorted(figures) == ["billing", "support"]
    assert figures["billing"].offered == 0 and figures["billing"].service_level is None
    assert figures["support"].as_dict()["asa"] == 5


def test_grouping_by_day_month_year_agrees_with_total(log: EventLog) -> None:
    total = queue_stats(log.db, T0, T0 + 86400)["sales"]
    for by in ("day", "month", "year"):
        rows = [r for r in queue_report(log.db, T0, T0 + 86400, by=by) if r.queue == "sales"]
        assert len(rows) == 1
        assert rows[0].figures.as_dict() == total.as_dict()


@pytest.mark.parametrize(("start", "end"), [(T0, T0), (T0 + 10, T0), (float("nan"), T0)])
def test_impossible_range_is_refused(log: EventLog, start: float, end: float) -> None:
    with pytest.raises(StatsError, match=r"range|not a time"):
        queue_stats(log.db, start, end)


def test_bad_threshold_and_grouping_are_refused(log: EventLog) -> None:
    with pytest.raises(StatsError, match="service-level threshold"):
        queue_stats(log.db, T0, T0 + 10, sl_seconds=-1)
    with pytest.raises(StatsError, match="grouping"):
        queue_report(log.db, T0, T0 + 10, by="week")  # type: ignore[arg-type]


def test_every_exit_and_transfer_reads_its_own_wait_field(tmp_path: Path) -> None:
    events = EventLog(schema_database(str(tmp_path / "x.db")))
    events.exit("EXITWITHKEY", "k1", "q", T0, wait=31)
    events.exit("EXITEMPTY", "e1", "q", T0 + 1, wait=7)
    events.exit("OVERFLOW", "o1", "q", T0 + 2, wait=95)
    events.event(T0 + 3, "ENTERQUEUE", "t1", "q", "", "0612", "3000", 0, "span1")
    events.event(T0 + 9, "CONNECT", "t1", "q", "a1", 6, "sip/a1", 2)
    events.event(T0 + 49, "BLINDTRANSFER", "t1", "q", "a1", "2000", 6, 40, 1)
    events.event(T0 + 4, "ENTERQUEUE", "t2", "q", "", "0612", "3000", 0, "span1")
    events.event(T0 + 14, "CONNECT", "t2", "q", "a2", 10, "sip/a2", 2)
    events.event(T0 + 34, "ATTENDEDTRANSFER", "t2", "q", "a2", "2001", 10, 20, 2)
    events.flush()
    q = queue_stats(events.db, T0, T0 + 60)["q"]
    assert (q.offered, q.answered, q.exit_key, q.exit_empty, q.overflowed) == (5, 2, 1, 1, 1)
    assert q.offered == q.answered + q.exit_key + q.exit_empty + q.overflowed
    assert q.longest_wait == 95 and q.completed == 2
    assert q.avg_talk == pytest.approx((40 + 20) / 2)
    assert q.service_level == pytest.approx(2 / 5)
    # the transfers are attributed to the call's entry, even when the range ends before them
    assert queue_stats(events.db, T0, T0 + 5)["q"].completed == 2
