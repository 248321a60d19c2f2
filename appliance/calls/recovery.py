"""Crash recovery of calls: closing the calls a killed telephonyd left open.

Every call in progress has a row in ``live_calls`` (written by
:class:`~appliance.calls.eventlog.EventLog` at start, answer, each leg and
bridge; removed in the transaction that appends its CDR). A row found when
telephonyd starts is a call the previous process lost without its release.
:func:`recover_interrupted_calls` runs before the daemon takes calls and, per
row, in one transaction:

* appends the CDR with disposition ``INTERRUPTED`` and cause 41 (ITU-T Q.850
  "temporary failure"), ending at the last time the call was known alive: the
  latest of its journal update, queue_log and ivr_visits rows;
* closes its queue_log session the Asterisk way statistics expect: a call
  still waiting gets ``ABANDON`` (position, original position, wait), a call
  connected to an agent gets ``COMPLETEAGENT`` (hold time, talk time,
  original position); the agent's login is not ended (it comes back with the
  daemon, :mod:`appliance.acd.logins`);
* deletes the journal row.

Recordings are not touched here: the recording component's
:meth:`~appliance.recording.recorder.Recorder.recover` closes the WAV and
index row of an interrupted recording with its real length.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass

from appliance.calls.channel import CAUSE_TEMPORARY_FAILURE
from appliance.calls.eventlog import CDR_COLUMNS

log = logging.getLogger("appliance.calls")

DISPOSITION_INTERRUPTED = "INTERRUPTED"

# queue_log events after which the caller no longer waits in the queue
_LEFT_QUEUE = ("CONNECT", "ABANDON", "EXITWITHTIMEOUT", "EXITWITHKEY", "EXITEMPTY", "OVERFLOW")
# events that end an agent's connected call
_ENDED_CONNECT = ("COMPLETEAGENT", "COMPLETECALLER", "BLINDTRANSFER", "ATTENDEDTRANSFER")


@dataclass(frozen=True)
class InterruptedCall:
    call_id: str
    end: float
    queue_event: str  # closing queue_log row written ('' when the call was in no queue)
    agent: str


def _last_alive(conn: sqlite3.Connection, call_id: str, updated: float) -> float:
    row = conn.execute(
        "SELECT max(at) FROM (SELECT at FROM queue_log WHERE call_id = ? "
        "UNION ALL SELECT at FROM ivr_visits WHERE call_id = ?)", (call_id, call_id)
    ).fetchone()
    return max(updated, row[0] if row and row[0] is not None else updated)


def _insert_queue_event(conn: sqlite3.Connection, at: float, call_id: str, queue: str,
                        agent: str, event: str, data: tuple[str, ...]) -> None:
    fields = list(data) + [""] * (5 - len(data))
    conn.execute(
        "INSERT INTO queue_log (at, call_id, queue, agent, event, data1, data2, data3, data4, "
        "data5) VALUES (?,?,?,?,?,?,?,?,?,?)", (at, call_id, queue, agent, event, *fields))


def _seconds(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _close_queue_log(conn: sqlite3.Connection, call_id: str, end: float
                     ) -> tuple[str, str, str]:
    """Write the closing row of the call's open queue session; returns (event, agent, queue)."""
    enter = conn.execute(
        "SELECT id, at, queue FROM queue_log WHERE call_id = ? AND event = 'ENTERQUEUE' "
        "ORDER BY id DESC LIMIT 1", (call_id,)).fetchone()
    if enter is None:
        return "", "", ""
    enter_id, enter_at, queue = enter
    left = conn.execute(
        f"SELECT id, at, event, agent, data1 FROM queue_log WHERE call_id = ? AND id > ? "
        f"AND event IN ({','.join('?' * len(_LEFT_QUEUE))}) ORDER BY id LIMIT 1",
        (call_id, enter_id, *_LEFT_QUEUE)).fetchone()
    if left is None:  # still waiting: the caller is lost to the queue (Asterisk ABANDON)
        _insert_queue_event(conn, end, call_id, queue, "", "ABANDON",
                            ("1", "1", _seconds(end - enter_at)))
        return "ABANDON", "", queue
    connect_id, connect_at, event, agent, hold = left
    if event != "CONNECT":
        return "", "", queue
    ended = conn.execute(
        f"SELECT 1 FROM queue_log WHERE call_id = ? AND id > ? "
        f"AND event IN ({','.join('?' * len(_ENDED_CONNECT))}) LIMIT 1",
        (call_id, connect_id, *_ENDED_CONNECT)).fetchone()
    if ended is not None:
        return "", agent, queue
    _insert_queue_event(conn, end, call_id, queue, agent, "COMPLETEAGENT",
                        (hold, _seconds(end - connect_at), "1"))
    return "COMPLETEAGENT", agent, queue


def recover_interrupted_calls(conn: sqlite3.Connection) -> list[InterruptedCall]:
    """Close every journaled call (see the module docstring); returns what was closed."""
    rows = conn.execute(
        "SELECT call_id, direction, trunk, channel, caller, callee, queue, agent, start, answer, "
        "updated FROM live_calls ORDER BY start").fetchall()
    closed: list[InterruptedCall] = []
    for call_id, direction, trunk, channel, caller, callee, queue, agent, start, answer, \
            updated in rows:
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("SELECT 1 FROM cdr WHERE call_id = ?", (call_id,)).fetchone():
                # killed between the CDR and the journal delete: the call had ended
                conn.execute("DELETE FROM live_calls WHERE call_id = ?", (call_id,))
                conn.execute("COMMIT")
                continue
            end = _last_alive(conn, call_id, updated)
            event, queue_agent, last_queue = _close_queue_log(conn, call_id, end)
            record = {
                "call_id": call_id, "direction": direction, "trunk": trunk, "channel": channel,
                "caller": caller, "caller_name": "", "presentation": "allowed",
                "callee": callee, "start": start, "answer": answer, "end": end,
                "duration": end - start, "billsec": end - answer if answer is not None else 0.0,
                "disposition": DISPOSITION_INTERRUPTED, "cause": CAUSE_TEMPORARY_FAILURE,
                "queue": queue or last_queue, "agent": agent or queue_agent, "ivr_path": "",
                "satisfaction": None, "resolved": None,
            }
            conn.execute(
                f"INSERT INTO cdr ({', '.join(CDR_COLUMNS)}) "
                f"VALUES ({','.join('?' * len(CDR_COLUMNS))})",
                tuple(record[c] for c in CDR_COLUMNS))
            conn.execute("DELETE FROM live_calls WHERE call_id = ?", (call_id,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        log.warning("call %s interrupted by an unclean stop closed: CDR %s at %.3f%s", call_id,
                    DISPOSITION_INTERRUPTED, end, f", queue_log {event}" if event else "",
                    extra={"call_id": call_id})
        closed.append(InterruptedCall(call_id, end, event, agent or queue_agent))
    return closed
