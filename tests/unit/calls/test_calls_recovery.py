"""Crash recovery of calls (issue 12 item 12): the live_calls journal and closing it at start.

The "crash" is simply dropping the centre without ending its calls: the journal
rows stay, as after ``kill -9``, and :func:`recover_interrupted_calls` must close them.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "acd"))
from acdrig import answer, make_center

from appliance.acd.logins import open_logins
from appliance.calls.recovery import recover_interrupted_calls


def test_a_call_in_progress_is_journaled_and_its_row_goes_with_its_cdr() -> None:
    center = make_center("linear", agents=1)
    call, _caller = center.queue_call("sales", "0301234")
    center.clock.advance(3)
    answer(center, "1001")
    (row,) = list(center.db.query("SELECT * FROM live_calls"))
    assert (row["call_id"], row["caller"], row["agent"]) == (call.call_id, "0301234", "1001")
    assert row["answer"] is not None and row["legs"].count(",") == 1  # caller and agent legs
    center.calls.hangup(call, 16)
    assert list(center.db.query("SELECT * FROM live_calls")) == []
    assert recover_interrupted_calls(center.db.conn) == []


def test_a_connected_call_lost_in_a_crash_gets_an_interrupted_cdr_and_a_closed_queue_log() -> None:
    center = make_center("linear", agents=1)
    call, _caller = center.queue_call("sales", "0301234")
    center.clock.advance(4)
    answer(center, "1001")
    connect_at = center.clock.time()
    center.clock.advance(30)
    center.acd.hold("1001")  # a later event: the call was known alive until here

    (closed,) = recover_interrupted_calls(center.db.conn)

    assert (closed.call_id, closed.queue_event, closed.agent) == (call.call_id, "COMPLETEAGENT",
                                                                   "1001")
    (cdr,) = list(center.db.query("SELECT * FROM cdr"))
    assert (cdr["disposition"], cdr["cause"], cdr["agent"]) == ("INTERRUPTED", 41, "1001")
    assert cdr["end"] == connect_at + 30  # the HOLD row, not the time of recovery
    assert cdr["billsec"] == cdr["end"] - cdr["answer"]
    (complete,) = center.queue_log("COMPLETEAGENT")
    assert (complete["data1"], complete["data2"]) == ("4", "30")  # hold time, talk time
    assert center.queue_log("AGENTLOGOFF") == []  # the login comes back with the daemon
    assert [x.agent for x in open_logins(center.db.conn)] == ["1001"]
    assert list(center.db.query("SELECT * FROM live_calls")) == []
    assert recover_interrupted_calls(center.db.conn) == []  # nothing twice


def test_a_waiting_call_lost_in_a_crash_is_logged_abandoned() -> None:
    center = make_center("linear", agents=1)
    center.acd.pause("1001", "break")
    call, _caller = center.queue_call("sales", "0301234")
    center.clock.advance(7)
    # no row of the call after ENTERQUEUE: that is its last known sign of life

    (closed,) = recover_interrupted_calls(center.db.conn)

    assert closed.queue_event == "ABANDON"
    (abandon,) = center.queue_log("ABANDON")
    assert (abandon["call_id"], abandon["data3"]) == (call.call_id, "0")
    (cdr,) = list(center.db.query("SELECT * FROM cdr"))
    assert cdr["disposition"] == "INTERRUPTED" and cdr["queue"] == "sales" and cdr["agent"] == ""


def test_a_call_whose_cdr_was_written_before_the_crash_only_loses_its_journal_row() -> None:
    center = make_center("linear", agents=1)
    call, _caller = center.queue_call("sales", "0301234")
    answer(center, "1001")
    center.calls.end(call)
    center.db.conn.execute(
        "INSERT INTO live_calls (call_id, direction, start, updated) VALUES (?, 'inbound', 0, 0)",
        (call.call_id,))
    assert recover_interrupted_calls(center.db.conn) == []
    assert [r["disposition"] for r in center.db.query("SELECT * FROM cdr")] == ["ANSWERED"]
    assert list(center.db.query("SELECT * FROM live_calls")) == []
