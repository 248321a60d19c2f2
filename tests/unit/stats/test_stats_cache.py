"""The hourly cache of closed hours gives exactly the figures computed from raw queue_log rows."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from statslog import EventLog, schema_database

from appliance.stats import StatsError
from appliance.stats.cache import clear_queue_cache, coverage, refresh_queue_cache
from appliance.stats.queue_sql import COUNT_FIELDS, SUM_FIELDS
from appliance.stats.queues import QueueRow, queue_report

T0 = 1_767_225_600.0  # 2026-01-01 00:00:00 UTC
H = 3600.0
QUEUES = ("sales", "support", "billing")


def random_log(log: EventLog, rng: random.Random, calls: int, first: float, span: float) -> None:
    """Calls of every outcome, some waiting or talking across one or more hour boundaries."""
    for i in range(calls):
        call = f"r{first:.0f}-{i}"
        queue = rng.choice(QUEUES)
        enter = first + rng.uniform(0, span)
        if rng.random() < 0.05:
            enter = first + H * rng.randrange(int(span // H))  # exactly on an hour boundary
        wait = round(rng.choice([rng.uniform(0, 40), rng.expovariate(1 / 600)]), 3)
        pick = rng.random()
        if pick < 0.55:
            ronas = tuple((f"a{rng.randrange(5)}", round(rng.uniform(5, 20), 3))
                          for _ in range(rng.randrange(2)))
            log.answered(call, queue, f"a{rng.randrange(5)}", enter, wait=wait + 20 * len(ronas),
                         ring=round(rng.uniform(1, 6), 3), talk=round(rng.expovariate(1 / 900), 3),
                         ronas=ronas, hangup=rng.choice(["COMPLETECALLER", "COMPLETEAGENT"]))
        elif pick < 0.75:
            log.abandoned(call, queue, enter, wait=rng.choice([2.0, 5.0, wait]))
        elif pick < 0.8:
            log.abandoned(call, queue, enter, wait=wait)
            log.event(enter + 30, "PAUSE", "", "", "a1", "break")  # not a queue event
        else:
            log.exit(rng.choice(["EXITWITHTIMEOUT", "EXITWITHKEY", "EXITEMPTY", "OVERFLOW"]),
                     call, queue, enter, wait=wait)
    log.rows.sort(key=lambda row: float(str(row["at"])))  # written in time order, as the ACD does
    log.flush()


def figures(rows: list[QueueRow]) -> list[tuple[str, str, list[float]]]:
    return [(r.interval, r.queue, [getattr(r.figures, n) for n in COUNT_FIELDS + SUM_FIELDS])
            for r in rows]


def assert_same(fast: list[QueueRow], raw: list[QueueRow]) -> None:
    assert [(r.interval, r.queue) for r in fast] == [(r.interval, r.queue) for r in raw]
    assert raw, "the comparison needs traffic"
    for (_, _, a), (_, _, b) in zip(figures(fast), figures(raw), strict=True):
        n = len(COUNT_FIELDS)
        assert a[:n] == b[:n]  # counts exactly
        assert a[-1] == b[-1]  # longest wait exactly
        assert a[n:-1] == pytest.approx(b[n:-1], rel=1e-12, abs=1e-9)  # sums (summing order)
    for f, r in zip(fast, raw, strict=True):
        assert (f.figures.sl_seconds, f.figures.short_abandon) == (
            r.figures.sl_seconds, r.figures.short_abandon)


@pytest.fixture
def log(tmp_path: Path) -> EventLog:
    events = EventLog(schema_database(str(tmp_path / "c.db")))
    random_log(events, random.Random(8), 600, T0, 3 * 86400)
    return events


PER_QUEUE_SL = {"sales": 10.0, "support": 30.0}
PER_QUEUE_SA = {"billing": 8.0}


@pytest.mark.parametrize("by", [None, "hour", "day", "month", "year"])
@pytest.mark.parametrize("span", [(0, 3 * 86400), (5 * H, 29 * H), (2 * 86400, 4 * 86400),
                                  (-86400, 86400)])
def test_cached_report_equals_the_raw_computation(log: EventLog, by: str | None,
                                                  span: tuple[float, float]) -> None:
    refresh_queue_cache(log.db, [(20.0, 5.0), (10.0, 5.0), (30.0, 5.0), (20.0, 8.0)])
    start, end = T0 + span[0], T0 + span[1]
    for kwargs in ({}, {"queues": ["sales", "billing"]},
                   {"sl_seconds": PER_QUEUE_SL, "short_abandon": PER_QUEUE_SA}):
        fast = queue_report(log.db, start, end, by=by, **kwargs)  # type: ignore[arg-type]
        raw = queue_report(log.db, start, end, by=by, use_cache=False,
                           **kwargs)  # type: ignore[arg-type]
        assert_same(fast, raw)


def test_the_report_reads_the_cache_for_closed_hours(log: EventLog) -> None:
    closed = refresh_queue_cache(log.db, [(20.0, 5.0)])
    assert closed is not None and closed % H == 0
    assert coverage(log.db.conn, [(20.0, 5.0)]) == closed
    before = queue_report(log.db, T0, T0 + 86400, queues=["sales"])[0].figures.offered
    # proof that the cache is what answers: a (deliberately wrong) cached row shows up
    log.db.conn.execute("UPDATE stats_queue_hour SET offered = offered + 1000 "
                        "WHERE queue = 'sales' AND enter_hour = ? AND event_hour = ?",
                        (int(T0 + 3600), int(T0 + 3600)))
    assert queue_report(log.db, T0, T0 + 86400, queues=["sales"])[0].figures.offered == (
        before + 1000)
    assert queue_report(log.db, T0, T0 + 86400, queues=["sales"],
                        use_cache=False)[0].figures.offered == before
    clear_queue_cache(log.db)
    assert coverage(log.db.conn, [(20.0, 5.0)]) is None
    assert queue_report(log.db, T0, T0 + 86400, queues=["sales"])[0].figures.offered == before


def test_thresholds_never_cached_are_computed_from_raw_rows(log: EventLog) -> None:
    refresh_queue_cache(log.db, [(20.0, 5.0)])
    log.db.conn.execute("UPDATE stats_queue_hour SET answered_in_sl = answered_in_sl + 1000")
    fast = queue_report(log.db, T0, T0 + 86400, by="hour", sl_seconds=15.0)
    assert_same(fast, queue_report(log.db, T0, T0 + 86400, by="hour", sl_seconds=15.0,
                                   use_cache=False))
    mixed = queue_report(log.db, T0, T0 + 86400, sl_seconds={"sales": 15.0})
    assert_same(mixed, queue_report(log.db, T0, T0 + 86400, sl_seconds={"sales": 15.0},
                                    use_cache=False))


def test_new_events_after_the_cached_hours_are_counted(log: EventLog) -> None:
    closed = refresh_queue_cache(log.db, [(20.0, 5.0)])
    assert closed is not None
    rng = random.Random(23)
    # calls entering after the cache was built, some in the same hour as cached calls
    random_log(log, rng, 200, closed + 0.5, 30 * H)
    # a call that entered in a cached hour and ends now, in a later, open hour
    log.event(closed + 40 * H, "COMPLETEAGENT", "late1", "sales", "a1", 30.0, 40 * H, 1)
    log.flush()
    for start, end, by in ((T0, T0 + 6 * 86400, None), (T0, T0 + 6 * 86400, "hour"),
                           (closed - 86400, closed + 86400, "day")):
        raw = queue_report(log.db, start, end, by=by, use_cache=False)  # type: ignore[arg-type]
        assert_same(queue_report(log.db, start, end, by=by), raw)  # type: ignore[arg-type]
    raw_total = queue_report(log.db, T0, T0 + 6 * 86400, use_cache=False)
    assert sum(r.figures.offered for r in raw_total) == sum(
        r.figures.offered for r in queue_report(log.db, T0, T0 + 6 * 86400))
    assert refresh_queue_cache(log.db) > closed  # incremental: the pair already cached
    assert_same(queue_report(log.db, T0, T0 + 6 * 86400, by="hour"),
                queue_report(log.db, T0, T0 + 6 * 86400, by="hour", use_cache=False))


def test_an_event_written_late_into_a_closed_hour_makes_the_cache_stale(log: EventLog) -> None:
    closed = refresh_queue_cache(log.db, [(20.0, 5.0)])
    assert closed is not None
    log.abandoned("old1", "sales", closed - 2 * H, wait=50.0)
    log.flush()
    assert coverage(log.db.conn, [(20.0, 5.0)]) is None
    raw = queue_report(log.db, T0, T0 + 4 * 86400, by="hour", use_cache=False)
    assert_same(queue_report(log.db, T0, T0 + 4 * 86400, by="hour"), raw)
    refresh_queue_cache(log.db)  # rebuilt from queue_log
    assert coverage(log.db.conn, [(20.0, 5.0)]) == closed
    assert_same(queue_report(log.db, T0, T0 + 4 * 86400, by="hour"), raw)


def test_hour_boundaries_are_exact(tmp_path: Path) -> None:
    events = EventLog(schema_database(str(tmp_path / "b.db")))
    events.answered("b1", "sales", "a1", T0 + H - 0.001, wait=0.001, ring=0.0005, talk=H)
    events.answered("b2", "sales", "a1", T0 + H, wait=H, ring=1, talk=0.001)
    events.abandoned("b3", "sales", T0 + 2 * H - 1e-6, wait=1e-6)
    events.abandoned("b4", "support", T0 + 2 * H, wait=20.0)
    events.answered("b5", "support", "a2", T0 + 10 * H, wait=1, ring=1, talk=1)  # newest hour
    events.flush()
    assert refresh_queue_cache(events.db, [(20.0, 5.0)]) == T0 + 10 * H
    for by in ("hour", None):
        for start, end in ((T0, T0 + 11 * H), (T0 + H, T0 + 2 * H), (T0 + 2 * H, T0 + 3 * H)):
            raw = queue_report(events.db, start, end, by=by, use_cache=False)  # type: ignore[arg-type]
            assert_same(queue_report(events.db, start, end, by=by), raw)  # type: ignore[arg-type]
    hours = {(r.interval, r.queue): r.figures for r in
             queue_report(events.db, T0, T0 + 11 * H, by="hour")}
    # b1 answered after the hour turned is still a call of the hour it entered
    assert (hours[("2026-01-01 00:00", "sales")].offered,
            hours[("2026-01-01 00:00", "sales")].answered) == (1, 1)
    assert (hours[("2026-01-01 01:00", "sales")].offered,
            hours[("2026-01-01 01:00", "sales")].answered) == (1, 1)
    # SQLite's date functions label times to the millisecond: 1 us before 02:00 is 02:00
    assert hours[("2026-01-01 02:00", "sales")].abandoned == 1


def test_ranges_inside_hours_are_computed_from_raw_rows(log: EventLog) -> None:
    refresh_queue_cache(log.db, [(20.0, 5.0)])
    log.db.conn.execute("UPDATE stats_queue_hour SET offered = offered + 1000")
    start, end = T0 + 1800.5, T0 + 86400 + 900
    assert_same(queue_report(log.db, start, end, by="hour"),
                queue_report(log.db, start, end, by="hour", use_cache=False))


def test_refresh_refuses_a_negative_threshold(log: EventLog) -> None:
    with pytest.raises(StatsError, match="short-abandon threshold"):
        refresh_queue_cache(log.db, [(20.0, -1.0)])
