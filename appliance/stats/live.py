"""Live snapshot (MON-1..3): trunk channels busy/idle, calls waiting and the longest wait per
queue, agents by state with time in state.

Queues and agents are rebuilt from the tail of ``queue_log`` (the last event of each
call still in a queue, the last state event of each agent), so the snapshot is the
same whether the daemon answers it or a client reads the database after a restart.
Trunk channel states come from the running daemon (signalling knows them before any
CDR is written) as a mapping trunk -> channel -> busy.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from appliance.stats.periods import HORIZON_S, Db, connection
from appliance.store.db import connect

_LEFT = ("CONNECT", "ABANDON", "EXITWITHTIMEOUT", "EXITWITHKEY", "EXITEMPTY", "OVERFLOW")
# agent state after each event (ACD-3); RONA is followed by the ACD's own PAUSE event
_STATE_AFTER = {
    "AGENTLOGIN": "idle", "AGENTLOGOFF": "logged-out", "PAUSE": "paused", "UNPAUSE": "idle",
    "RINGING": "ringing", "RINGNOANSWER": "idle", "CONNECT": "talking", "HOLD": "talking",
    "UNHOLD": "talking", "COMPLETEAGENT": "idle", "COMPLETECALLER": "idle",
    "BLINDTRANSFER": "idle", "ATTENDEDTRANSFER": "idle", "WRAPUPSTART": "wrap-up",
    "WRAPUPEND": "idle",
}


@dataclass
class QueueLive:
    waiting: int = 0
    longest_wait: float = 0.0
    agents_idle: int = 0
    completed_today: int = 0


@dataclass
class Snapshot:
    at: float
    trunks: dict[str, dict[str, Any]] = field(default_factory=dict)
    queues: dict[str, QueueLive] = field(default_factory=dict)
    agents: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"at": self.at, "trunks": self.trunks,
                "queues": {q: vars(v) for q, v in self.queues.items()}, "agents": self.agents}


def snapshot(db: Db, now: float, *, day_start: float | None = None,
             trunk_channels: Mapping[str, Mapping[str, bool]] | None = None) -> Snapshot:
    """The live picture at ``now``. ``day_start`` (default ``now - 86400``) bounds "completed"."""
    conn = connection(db)
    snap = Snapshot(now)
    for trunk, channels in sorted((trunk_channels or {}).items()):
        busy = sorted(name for name, is_busy in channels.items() if is_busy)
        snap.trunks[trunk] = {"busy": len(busy), "idle": len(channels) - len(busy),
                              "busy_channels": busy}
    since = now - HORIZON_S
    waiting = conn.execute(
        f"""SELECT e.queue, count(*), max(? - e.at) FROM queue_log e
            WHERE e.event = 'ENTERQUEUE' AND e.at >= ? AND e.at <= ?
              AND NOT EXISTS (SELECT 1 FROM queue_log x WHERE x.call_id = e.call_id
                              AND x.queue = e.queue AND x.at >= e.at AND x.at <= ?
                              AND x.event IN ({", ".join("?" for _ in _LEFT)}))
            GROUP BY e.queue""", [now, since, now, now, *_LEFT])
    for queue, count, longest in waiting:
        snap.queues[queue] = QueueLive(waiting=count, longest_wait=float(longest or 0.0))
    start = now - 86400.0 if day_start is None else day_start
    for queue, done in conn.execute(
        "SELECT queue, count(*) FROM queue_log WHERE event IN ('COMPLETEAGENT', 'COMPLETECALLER',"
        " 'BLINDTRANSFER', 'ATTENDEDTRANSFER') AND at >= ? AND at <= ? GROUP BY queue",
        [start, now],
    ):
        snap.queues.setdefault(queue, QueueLive()).completed_today = done
    events = list(_STATE_AFTER)
    marks = ", ".join("?" for _ in events)
    last = conn.execute(
        f"""SELECT q.agent, q.event, q.at, q.queue FROM queue_log q JOIN (
              SELECT max(id) AS id FROM queue_log WHERE agent != '' AND at >= ? AND at <= ?
              AND event IN ({marks}) GROUP BY agent) m ON q.id = m.id
            ORDER BY q.agent""", [since, now, *events])
    queues_of = _agent_queues(conn, since, now)
    for agent, event, at, _queue in last:
        state = _STATE_AFTER[event]
        if state == "logged-out":
            continue
        snap.agents[agent] = {"state": state, "since": at, "time_in_state": now - at,
                              "queues": sorted(queues_of.get(agent, ()))}
        if state == "idle":
            for queue in queues_of.get(agent, ()):
                snap.queues.setdefault(queue, QueueLive()).agents_idle += 1
    return snap


def _agent_queues(conn: Any, since: float, now: float) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for agent, queue in conn.execute(
        "SELECT DISTINCT agent, queue FROM queue_log WHERE agent != '' AND queue != '' "
        "AND at >= ? AND at <= ?", [since, now],
    ):
        out.setdefault(agent, set()).add(queue)
    return out


def register_live_method(server: Any, database_path: str, clock_time: Callable[[], float],
                         trunk_channels: Callable[[], Mapping[str, Mapping[str, bool]]],
                         media: Callable[[], dict[str, Any]]) -> None:
    """Add ``stats.live`` to a control server (appliance.runtime.control.ControlServer);
    ``media`` gives the media engine's frame counters (lost audio is live news too). The
    daemon's live state is read on the loop; ``queue_log`` is read in a worker thread
    over a read-only connection of its own, so a long query never delays a media tick."""

    def read(now: float, trunks: Mapping[str, Mapping[str, bool]]) -> dict[str, Any]:
        conn = connect(database_path, readonly=True)
        try:
            return snapshot(conn, now, trunk_channels=trunks).as_dict()
        finally:
            conn.close()

    async def live(params: dict[str, Any]) -> dict[str, Any]:
        frames = media()
        snap = await asyncio.to_thread(read, clock_time(), trunk_channels())
        return {**snap, "media": frames}

    server.register("stats.live", live, needs="queues.read")
