"""The database writer thread (issue 13 "one writer thread", issue 14 item 5).

A write lock held by another connection (another process, a slow card) must not
delay the event loop: appending call-center rows returns at once and the rows
are committed, in order, when the database lets go.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from appliance.calls.eventlog import EventLog
from appliance.runtime.clock import VirtualClock
from appliance.store.db import connect, open_database
from appliance.store.writer import DatabaseWriter


def test_a_locked_database_does_not_delay_the_loop_and_rows_commit_after(tmp_path: Path) -> None:
    path = str(tmp_path / "appliance.db")
    db = open_database(path)
    writer = DatabaseWriter(lambda: connect(path), retry_s=0.05)
    events = EventLog(db, VirtualClock(), writer=writer)
    blocker = connect(path)
    blocker.execute("BEGIN IMMEDIATE")  # another connection holds the write lock
    try:
        began = time.monotonic()
        for n in range(50):
            events.queue_event("ENTERQUEUE", call_id=f"c{n}", queue="sales")
        on_loop = time.monotonic() - began
        assert on_loop < 0.5, f"appending took {on_loop:.3f} s on the loop"
        time.sleep(0.2)
        count = blocker.execute("SELECT count(*) FROM queue_log").fetchone()[0]
        assert count == 0  # nothing committed while the lock is held
    finally:
        blocker.execute("COMMIT")
    writer.flush()
    rows = [r[0] for r in db.conn.execute("SELECT call_id FROM queue_log ORDER BY id")]
    assert rows == [f"c{n}" for n in range(50)]
    writer.stop()


def test_a_full_queue_blocks_the_producer_and_counts_the_overflow(tmp_path: Path) -> None:
    path = str(tmp_path / "appliance.db")
    db = open_database(path)
    blocker = connect(path)
    blocker.execute("BEGIN IMMEDIATE")
    writer = DatabaseWriter(lambda: connect(path), capacity=1, retry_s=0.05)
    events = EventLog(db, VirtualClock(), writer=writer)
    events.queue_event("ENTERQUEUE", call_id="a", queue="sales")  # taken by the thread
    time.sleep(0.1)
    events.queue_event("ENTERQUEUE", call_id="b", queue="sales")  # fills the queue
    third = threading.Thread(
        target=lambda: events.queue_event("ENTERQUEUE", call_id="c", queue="sales"))
    third.start()
    time.sleep(0.2)
    assert third.is_alive()  # the producer waits: no row is dropped
    blocker.execute("COMMIT")
    third.join(10)
    writer.stop()
    assert writer.overflows == 1
    rows = [r[0] for r in db.conn.execute("SELECT call_id FROM queue_log ORDER BY id")]
    assert rows == ["a", "b", "c"]


def test_a_failing_batch_is_counted_and_the_writer_goes_on(tmp_path: Path) -> None:
    path = str(tmp_path / "appliance.db")
    db = open_database(path)
    writer = DatabaseWriter(lambda: connect(path), retry_s=0.05)

    def broken(conn: object) -> None:
        raise TypeError("a row built wrongly")

    writer.submit(broken)
    events = EventLog(db, VirtualClock(), writer=writer)
    events.queue_event("ENTERQUEUE", call_id="after", queue="sales")
    done = threading.Thread(target=writer.flush)
    done.start()
    done.join(5)
    assert not done.is_alive(), "flush hung: the writer thread died on the failed batch"
    assert writer.failures == 1
    assert [r[0] for r in db.conn.execute("SELECT call_id FROM queue_log")] == ["after"]
    writer.stop()
