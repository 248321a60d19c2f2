"""Hand-built event logs for statistics tests: an appliance database at schema levels 1-2 and a
writer of ``queue_log`` / ``cdr`` / ``ivr_visits`` rows in the format docs/database.md documents."""

from __future__ import annotations

import sqlite_utils

from appliance.store import open_database


def schema_database(path: str) -> sqlite_utils.Database:
    """A fresh appliance database at the latest schema level (the shipped migrations)."""
    return open_database(path)


def _s(value: float | int | str) -> str:
    return str(value) if not isinstance(value, float) else repr(value)


class EventLog:
    """Writes call scenarios as the ACD would."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self.rows: list[dict[str, object]] = []

    def event(self, at: float, event: str, call_id: str = "", queue: str = "", agent: str = "",
              *data: float | int | str) -> None:
        row: dict[str, object] = {"at": at, "call_id": call_id, "queue": queue, "agent": agent,
                                  "event": event}
        for i in range(1, 6):
            row[f"data{i}"] = _s(data[i - 1]) if i <= len(data) else ""
        self.rows.append(row)

    def answered(self, call_id: str, queue: str, agent: str, enter: float, wait: float,
                 ring: float, talk: float, *, hangup: str = "COMPLETECALLER",
                 ronas: tuple[tuple[str, float], ...] = (), hold: float = 0.0) -> None:
        self.event(enter, "ENTERQUEUE", call_id, queue, "", "0612345678", "3000", 0, "span1")
        at = enter
        for attempt, (rona_agent, rona_ring) in enumerate(ronas, start=1):
            self.event(at + 0.5, "RINGING", call_id, queue, rona_agent, attempt)
            self.event(at + 0.5 + rona_ring, "RINGNOANSWER", call_id, queue, rona_agent, rona_ring)
            at += 0.5 + rona_ring
        answer = enter + wait
        self.event(answer - ring, "RINGING", call_id, queue, agent, len(ronas) + 1)
        self.event(answer, "CONNECT", call_id, queue, agent, wait, f"sip/{agent}", ring)
        if hold:
            self.event(answer + 1, "HOLD", call_id, queue, agent)
            self.event(answer + 1 + hold, "UNHOLD", call_id, queue, agent, hold)
        self.event(answer + talk, hangup, call_id, queue, agent, wait, talk, 1)

    def abandoned(self, call_id: str, queue: str, enter: float, wait: float) -> None:
        self.event(enter, "ENTERQUEUE", call_id, queue, "", "0612345678", "3000", 0, "span1")
        self.event(enter + wait, "ABANDON", call_id, queue, "", 1, 1, wait)

    def exit(self, event: str, call_id: str, queue: str, enter: float, wait: float) -> None:
        self.event(enter, "ENTERQUEUE", call_id, queue, "", "0612345678", "3000", 0, "span1")
        if event == "EXITWITHKEY":
            self.event(enter + wait, event, call_id, queue, "", "0", 1, 1, wait)
        elif event == "OVERFLOW":
            self.event(enter + wait, event, call_id, queue, "", "other", 1, wait)
        elif event == "EXITWITHTIMEOUT":
            self.event(enter + wait, event, call_id, queue, "", 1, 1, wait, "voicemail")
        else:
            self.event(enter + wait, event, call_id, queue, "", 1, 1, wait)

    def flush(self) -> None:
        if self.rows:
            self.db.table("queue_log").insert_all(self.rows)
            self.rows = []


def cdr(db: sqlite_utils.Database, call_id: str, *, start: float, end: float,
        answer: float | None = None, direction: str = "inbound", trunk: str = "span1",
        disposition: str = "ANSWERED", agent: str = "", queue: str = "",
        resolved: int | None = None, caller: str = "0612345678", callee: str = "3000") -> None:
    """One CDR row as the call core writes it when a call ends."""
    db.table("cdr").insert({
        "call_id": call_id, "direction": direction, "trunk": trunk, "channel": f"{trunk}/1",
        "caller": caller, "callee": callee, "start": start, "answer": answer, "end": end,
        "duration": end - start, "billsec": (end - answer) if answer is not None else 0.0,
        "disposition": disposition, "queue": queue, "agent": agent, "resolved": resolved,
    })
