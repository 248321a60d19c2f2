"""Report timings over 1 million CDRs and 5 million queue_log events (issue 8 performance).

Run: .venv/bin/python bench/stats.py [--calls 1000000] [--keep DB]
(e.g. --keep /tmp/stats_bench.db builds the database once and reuses it afterwards).
Builds a synthetic 100-day history (8 queues, 200 agents; every call writes
ENTERQUEUE, RINGING, CONNECT and COMPLETE*, or ENTERQUEUE and ABANDON, plus
agent pause events: about 5 events per call, 5.15 million in all; one IVR
visit per call), then refreshes the hourly statistics cache (appliance.stats.cache, as the
appliance does for closed hours) and times each report. The target is under 1 s per report;
the raw and uncached-threshold lines show what a report costs without the cache.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from appliance.stats.agents import agent_report
from appliance.stats.cache import refresh_queue_cache
from appliance.stats.ivr import ivr_report
from appliance.stats.queues import DEFAULT_SHORT_ABANDON, DEFAULT_SL_SECONDS, queue_report
from appliance.stats.trunks import cdr_rows, trunk_report
from appliance.store import open_database

T0 = 1_767_225_600.0
DAYS = 100


def build(path: str, calls: int) -> tuple[int, int]:
    conn = open_database(path).conn  # every shipped migration, the statistics index included
    conn.execute("PRAGMA synchronous = OFF")
    rng = random.Random(8)
    spacing = DAYS * 86400.0 / calls
    events: list[tuple[Any, ...]] = []
    cdrs: list[tuple[Any, ...]] = []
    visits: list[tuple[Any, ...]] = []
    n_events = 0

    def flush() -> None:
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO queue_log (at, call_id, queue, agent, event, data1, data2, "
            "data3, data4) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            events,
        )
        conn.executemany(
            "INSERT INTO cdr (call_id, direction, trunk, channel, caller, callee, "
            "start, answer, end, duration, billsec, disposition, queue, agent) "
            "VALUES (?, 'inbound', ?, ?, ?, '3000', ?, ?, ?, ?, ?, ?, ?, ?)",
            cdrs,
        )
        conn.executemany("INSERT INTO ivr_visits (at, call_id, flow, node, result) "
                         "VALUES (?, ?, 'main', 'welcome', ?)", visits)
        conn.execute("COMMIT")
        visits.clear()
        events.clear()
        cdrs.clear()

    for i in range(calls):
        enter = T0 + i * spacing
        call_id = f"c{i}"
        queue = f"q{i % 8}"
        agent = f"a{rng.randrange(200)}"
        trunk = f"span{i % 4 + 1}"
        wait = rng.expovariate(1 / 25.0)
        visits.append((enter - 3, call_id, str(i % 3 + 1)))
        events.append((enter, call_id, queue, "", "ENTERQUEUE", "0612345678", "3000", "0", trunk))
        if rng.random() < 0.1:
            events.append(
                (enter + wait, call_id, queue, "", "ABANDON", "1", "1", f"{wait:.3f}", "")
            )
            cdrs.append(
                (
                    call_id,
                    trunk,
                    f"{trunk}/1",
                    "0612345678",
                    enter - 5,
                    enter,
                    enter + wait,
                    wait + 5,
                    wait,
                    "ABANDONED",
                    queue,
                    "",
                )
            )
            n_events += 2
        else:
            ring = rng.uniform(1, 6)
            talk = rng.expovariate(1 / 180.0)
            answer = enter + wait
            events.append((answer - ring, call_id, queue, agent, "RINGING", "1", "", "", ""))
            events.append(
                (answer, call_id, queue, agent, "CONNECT", f"{wait:.3f}", "sip", f"{ring:.3f}", "")
            )
            events.append(
                (
                    answer + talk,
                    call_id,
                    queue,
                    agent,
                    "COMPLETECALLER",
                    f"{wait:.3f}",
                    f"{talk:.3f}",
                    "1",
                    "",
                )
            )
            cdrs.append(
                (
                    call_id,
                    trunk,
                    f"{trunk}/1",
                    "0612345678",
                    enter - 5,
                    enter - 4,
                    answer + talk,
                    wait + talk + 5,
                    wait + talk + 4,
                    "ANSWERED",
                    queue,
                    agent,
                )
            )
            n_events += 4
            if i % 4 != 3:  # agents pause after three calls in four
                events.append((answer + talk + 1, "", "", agent, "PAUSE", "break", "", "", ""))
                events.append((answer + talk + 61, "", "", agent, "UNPAUSE", "break", "60", "", ""))
                n_events += 2
        if len(events) >= 200_000:
            flush()
    flush()
    conn.execute("ANALYZE")
    conn.close()
    return calls, n_events


def timed(label: str, func: Callable[[], Any], results: list[tuple[str, float, int]]) -> None:
    best = float("inf")
    size = 0
    for _ in range(3):
        began = time.perf_counter()
        out = func()
        best = min(best, time.perf_counter() - began)
        size = len(out)
    results.append((label, best, size))
    print(f"{label:<52} {best * 1000:8.1f} ms  rows={size:<6} {'OK' if best < 1.0 else 'SLOW'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--keep", help="reuse/keep the database at this path")
    args = parser.parse_args()
    path = args.keep or os.path.join(tempfile.mkdtemp(), "bench.db")
    if not os.path.exists(path):
        began = time.perf_counter()
        calls, events = build(path, args.calls)
        print(
            f"built {calls} CDRs and {events} queue_log events in "
            f"{time.perf_counter() - began:.1f} s ({os.path.getsize(path) / 1e6:.0f} MB)"
        )
    store = open_database(path)  # brings an older cached database to the latest schema
    began = time.perf_counter()
    refresh_queue_cache(store, [(DEFAULT_SL_SECONDS, DEFAULT_SHORT_ABANDON)])
    print(f"hourly statistics cache refreshed in {time.perf_counter() - began:.1f} s")
    store.conn.close()
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    count_events = conn.execute("SELECT count(*) FROM queue_log").fetchone()[0]
    count_cdr = conn.execute("SELECT count(*) FROM cdr").fetchone()[0]
    print(f"database: {count_cdr} CDRs, {count_events} events")
    day = T0 + 50 * 86400
    results: list[tuple[str, float, int]] = []
    timed(
        "queue report, one day, by hour",
        lambda: queue_report(conn, day, day + 86400, by="hour"),
        results,
    )
    timed(
        "queue report, one week, by day",
        lambda: queue_report(conn, day, day + 7 * 86400, by="day"),
        results,
    )
    timed(
        "queue report, one month, by day",
        lambda: queue_report(conn, day, day + 30 * 86400, by="day"),
        results,
    )
    timed(
        "queue report, one queue, whole history, by month",
        lambda: queue_report(conn, T0, T0 + DAYS * 86400, by="month", queues=["q3"]),
        results,
    )
    timed(
        "queue report, all queues, whole history (5M events)",
        lambda: queue_report(conn, T0, T0 + DAYS * 86400),
        results,
    )
    timed(
        "queue report, all queues, whole history, raw (no cache)",
        lambda: queue_report(conn, T0, T0 + DAYS * 86400, use_cache=False),
        results,
    )
    timed(
        "queue report, one month, by day, sl 30 s (not cached)",
        lambda: queue_report(conn, day, day + 30 * 86400, by="day", sl_seconds=30.0),
        results,
    )
    timed(
        "agent report, one day, 200 agents",
        lambda: agent_report(conn, day, day + 86400, now=day + 86400),
        results,
    )
    timed(
        "agent report, one agent, one month",
        lambda: agent_report(conn, day, day + 30 * 86400, now=day + 30 * 86400, agents=["a7"],
                             by="day"),
        results,
    )
    timed(
        "trunk report, one day, by hour",
        lambda: trunk_report(conn, day, day + 86400, by="hour"),
        results,
    )
    timed("trunk report, one month", lambda: trunk_report(conn, day, day + 30 * 86400), results)
    timed("ivr report, one month", lambda: ivr_report(conn, day, day + 30 * 86400), results)
    timed("CDR export rows, one day", lambda: list(cdr_rows(conn, day, day + 86400)), results)
    slow = [r for r in results if r[1] >= 1.0]
    print(f"{len(results) - len(slow)}/{len(results)} reports under 1 s")


if __name__ == "__main__":
    main()
