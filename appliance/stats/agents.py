"""Agent figures STAT-A1..A4 and agent event detail STAT-D1, from ``queue_log`` and ``cdr``.

State times (login, pause, wrap-up, talk, hold) are intervals rebuilt from the
event pairs and clipped to each report interval, so an agent logged in across
midnight has part of the login in each day. Counts and per-call averages
belong to the interval of the event that ends the thing counted (UNHOLD,
WRAPUPEND) or, for calls, of the answer. docs/statistics.md gives every formula.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any

from appliance.stats.periods import (
    HORIZON_S,
    Db,
    Grouping,
    TimeZone,
    check_range,
    connection,
    intervals,
    placeholders,
)

Span = tuple[float, float]

_AGENT_EVENTS = (
    "AGENTLOGIN", "AGENTLOGOFF", "PAUSE", "UNPAUSE", "WRAPUPSTART", "WRAPUPEND", "HOLD", "UNHOLD",
    "COMPLETEAGENT", "COMPLETECALLER", "BLINDTRANSFER", "ATTENDEDTRANSFER", "RINGNOANSWER",
    "CONNECT",
)
_TALK_FIELD = {"COMPLETEAGENT": "data2", "COMPLETECALLER": "data2", "BLINDTRANSFER": "data3",
               "ATTENDEDTRANSFER": "data3"}


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


@dataclass
class AgentFigures:
    """One agent over one interval; times in seconds (names in docs/statistics.md)."""

    login_time: float = 0.0  # STAT-A1
    paused_time: float = 0.0
    inbound_time: float = 0.0  # talk on queue calls (hold included), clipped to the interval
    outbound_time: float = 0.0  # billsec of answered outbound calls, clipped
    wrapup_time: float = 0.0  # after-call work, clipped
    hold_time: float = 0.0  # clipped
    inbound_calls: int = 0  # queue calls answered in the interval that ended
    outbound_calls: int = 0  # answered outbound calls
    pause_count: int = 0  # STAT-A3 PAUSE (AUX) events; wrap-up is not a pause
    hold_count: int = 0  # STAT-A2 HOLD events
    holds_ended: int = 0
    hold_ended_s: float = 0.0
    wrapups: int = 0
    wrapup_s: float = 0.0
    talk_s: float = 0.0  # talk of the interval's handled inbound calls, whole calls
    outbound_s: float = 0.0  # billsec of the interval's outbound calls, whole calls
    rona: int = 0
    resolved: int = 0  # STAT-A4 first-call resolution marked yes
    resolution_marked: int = 0
    qa_scores: int = 0
    qa_score_sum: float = 0.0

    @property
    def idle_time(self) -> float:
        """STAT-A1 login - inbound - outbound - paused (never below zero)."""
        return max(0.0, self.login_time - self.inbound_time - self.outbound_time - self.paused_time)

    @property
    def calls_handled(self) -> int:
        return self.inbound_calls + self.outbound_calls

    @property
    def avg_hold(self) -> float | None:
        """STAT-A2 sum of hold durations / holds ended."""
        return _ratio(self.hold_ended_s, self.holds_ended)

    @property
    def avg_wrapup(self) -> float | None:
        """STAT-A3 average after-call work."""
        return _ratio(self.wrapup_s, self.wrapups)

    @property
    def calls_per_hour(self) -> float | None:
        """STAT-A4 calls handled / login hours."""
        return _ratio(self.calls_handled, self.login_time / 3600.0)

    @property
    def aht(self) -> float | None:
        """STAT-A4 average handle time: (talk incl. hold + outbound talk + wrap-up) / calls."""
        return _ratio(self.talk_s + self.outbound_s + self.wrapup_s, self.calls_handled)

    @property
    def occupancy(self) -> float | None:
        """STAT-A4 (inbound + outbound + wrap-up time) / (login - paused time)."""
        busy = self.inbound_time + self.outbound_time + self.wrapup_time
        return _ratio(busy, self.login_time - self.paused_time)

    @property
    def fcr(self) -> float | None:
        """STAT-A4 first-call resolution: calls marked resolved / calls marked."""
        return _ratio(self.resolved, self.resolution_marked)

    @property
    def qa_score(self) -> float | None:
        """REC-3 average QA score (percent) of evaluations made in the interval."""
        return _ratio(self.qa_score_sum, self.qa_scores)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in ("idle_time", "calls_handled", "avg_hold", "avg_wrapup", "calls_per_hour",
                     "aht", "occupancy", "fcr", "qa_score"):
            out[name] = getattr(self, name)
        return out


AGENT_FIGURE_NAMES = (
    "login_time", "idle_time", "paused_time", "pause_count", "inbound_calls", "inbound_time",
    "outbound_calls", "outbound_time", "hold_count", "avg_hold", "avg_wrapup", "calls_per_hour",
    "aht", "occupancy", "fcr", "rona", "qa_score",
)


@dataclass(frozen=True)
class AgentRow:
    interval: str
    agent: str
    figures: AgentFigures = field(default_factory=AgentFigures)


@dataclass
class _Agent:
    login: list[Span] = field(default_factory=list)
    pause: list[Span] = field(default_factory=list)
    wrapup: list[Span] = field(default_factory=list)
    talk: list[Span] = field(default_factory=list)
    hold: list[Span] = field(default_factory=list)
    outbound: list[Span] = field(default_factory=list)
    points: list[tuple[float, str, float]] = field(default_factory=list)  # (at, kind, value)


def _overlap(spans: Iterable[Span], lo: float, hi: float) -> float:
    return sum(max(0.0, min(b, hi) - max(a, lo)) for a, b in spans)


def _spans(state: _Agent, kind: str) -> list[Span]:
    return {"login": state.login, "pause": state.pause, "wrapup": state.wrapup,
            "talk": state.talk}[kind]


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


def _collect(conn: sqlite3.Connection, start: float, end: float, now: float,
             agents: list[str] | None) -> dict[str, _Agent]:
    where_agent = f" AND agent IN ({placeholders(agents)})" if agents else " AND agent != ''"
    rows = conn.execute(
        f"SELECT agent, at, event, data1, data2, data3 FROM queue_log "
        f"WHERE at >= ? AND at < ? AND event IN ({placeholders(list(_AGENT_EVENTS))}){where_agent} "
        f"ORDER BY agent, at, id",
        [start - HORIZON_S, end + HORIZON_S, *_AGENT_EVENTS, *(agents or [])],
    )
    out: dict[str, _Agent] = {}
    open_since: dict[tuple[str, str], float] = {}
    for agent, at, event, d1, d2, d3 in rows:
        state = out.setdefault(agent, _Agent())
        if event == "AGENTLOGIN":
            open_since.setdefault((agent, "login"), at)
        elif event == "AGENTLOGOFF":
            state.login.append((open_since.pop((agent, "login"), at - _float(d2)), at))
            for kind in ("pause", "wrapup", "talk"):  # a logout ends whatever was open
                if (agent, kind) in open_since:
                    _spans(state, kind).append((open_since.pop((agent, kind)), at))
        elif event == "CONNECT":  # a call in progress counts as talk up to now
            open_since.setdefault((agent, "talk"), at)
        elif event == "PAUSE":
            open_since.setdefault((agent, "pause"), at)
            state.points.append((at, "pause", 0.0))
        elif event == "UNPAUSE":
            state.pause.append((open_since.pop((agent, "pause"), at - _float(d2)), at))
        elif event == "WRAPUPSTART":
            open_since.setdefault((agent, "wrapup"), at)
        elif event == "WRAPUPEND":
            seconds = _float(d1)
            state.wrapup.append((open_since.pop((agent, "wrapup"), at - seconds), at))
            state.points.append((at, "wrapup", seconds))
        elif event == "HOLD":
            state.points.append((at, "hold", 0.0))
        elif event == "UNHOLD":
            seconds = _float(d1)
            state.hold.append((at - seconds, at))
            state.points.append((at, "unhold", seconds))
        elif event == "RINGNOANSWER":
            state.points.append((at, "rona", 0.0))
        else:  # an answered call ended: its own talk time replaces the open span
            open_since.pop((agent, "talk"), None)
            talk = _float({"data2": d2, "data3": d3}[_TALK_FIELD[event]])
            state.talk.append((at - talk, at))
            state.points.append((at - talk, "inbound", talk))
    for (agent, kind), since in open_since.items():  # still logged in, paused, talking...
        _spans(out[agent], kind).append((since, max(since, now)))  # ...up to now, never later
    where_cdr = f" AND agent IN ({placeholders(agents)})" if agents else " AND agent != ''"
    for agent, resolved, begun in conn.execute(
        f"SELECT agent, resolved, start FROM cdr "
        f"WHERE start >= ? AND start < ?{where_cdr} AND resolved IS NOT NULL",
        [start, end, *(agents or [])],
    ):
        out.setdefault(agent, _Agent()).points.append((begun, "resolved", float(resolved)))
    for agent, answer, ended, billsec in conn.execute(
        f"SELECT agent, answer, end, billsec FROM cdr WHERE direction = 'outbound' "
        f"AND answer IS NOT NULL AND answer >= ? AND answer < ?{where_cdr}",
        [start - HORIZON_S, end, *(agents or [])],
    ):
        state = out.setdefault(agent, _Agent())
        state.outbound.append((answer, ended))
        state.points.append((answer, "outbound", float(billsec)))
    _collect_qa(conn, start, end, agents, out)
    return out


def _collect_qa(conn: sqlite3.Connection, start: float, end: float, agents: list[str] | None,
                out: dict[str, _Agent]) -> None:
    has_qa = conn.execute(
        "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'qa_evaluations'"
    ).fetchone()
    if not has_qa:
        return
    where = f" AND agent IN ({placeholders(agents)})" if agents else ""
    for agent, at, score in conn.execute(
        f"SELECT agent, scored_at, score FROM qa_evaluations WHERE scored_at >= ? "
        f"AND scored_at < ?{where}", [start, end, *(agents or [])],
    ):
        out.setdefault(agent, _Agent()).points.append((at, "qa", float(score)))


def agent_report(db: Db, start: float, end: float, *, now: float,
                 agents: Iterable[str] | None = None, by: Grouping | None = None,
                 tz: TimeZone = "utc") -> list[AgentRow]:
    """Agent figures per (interval, agent) over ``[start, end)``.

    ``now`` (the caller's clock) closes what is still open: a login, a pause, a
    wrap-up or a call in progress counts up to ``now`` and never beyond, so a
    range ending in the future (today, this month) holds only the time so far.
    """
    check_range(start, end)
    agent_list = sorted(set(agents)) if agents is not None else None
    closing = min(end, now)
    data = _collect(connection(db), start, end, closing, agent_list)
    rows: list[AgentRow] = []
    for label, lo, hi in intervals(start, end, by, tz):
        for agent in sorted(data):
            state = data[agent]
            figures = AgentFigures(
                login_time=_overlap(state.login, lo, hi),
                paused_time=_overlap(state.pause, lo, hi),
                inbound_time=_overlap(state.talk, lo, hi),
                outbound_time=_overlap(state.outbound, lo, hi),
                wrapup_time=_overlap(state.wrapup, lo, hi),
                hold_time=_overlap(state.hold, lo, hi),
            )
            for at, kind, value in state.points:
                if lo <= at < hi:
                    _count(figures, kind, value)
            if any(v for v in figures.as_dict().values() if isinstance(v, int | float)):
                rows.append(AgentRow(label, agent, figures))
    return rows


def _count(figures: AgentFigures, kind: str, value: float) -> None:
    if kind == "pause":
        figures.pause_count += 1
    elif kind == "hold":
        figures.hold_count += 1
    elif kind == "unhold":
        figures.holds_ended += 1
        figures.hold_ended_s += value
    elif kind == "wrapup":
        figures.wrapups += 1
        figures.wrapup_s += value
    elif kind == "rona":
        figures.rona += 1
    elif kind == "inbound":
        figures.inbound_calls += 1
        figures.talk_s += value
    elif kind == "outbound":
        figures.outbound_calls += 1
        figures.outbound_s += value
    elif kind == "resolved":
        figures.resolution_marked += 1
        figures.resolved += int(value)
    elif kind == "qa":
        figures.qa_scores += 1
        figures.qa_score_sum += value


def agent_stats(db: Db, start: float, end: float, *, now: float,
                agents: Iterable[str] | None = None) -> dict[str, AgentFigures]:
    """Figures per agent over ``[start, end)``, open sessions closed at ``now``."""
    return {row.agent: row.figures for row in agent_report(db, start, end, agents=agents, now=now)}


@dataclass(frozen=True)
class AgentEvent:
    """STAT-D1 one line of agent event detail."""

    at: float
    agent: str
    event: str
    queue: str
    call_id: str
    detail: str


_DETAIL_EVENTS = ("AGENTLOGIN", "AGENTLOGOFF", "PAUSE", "UNPAUSE", "WRAPUPSTART", "WRAPUPEND",
                  "RINGNOANSWER")


def agent_events(db: Db, start: float, end: float,
                 agents: Iterable[str] | None = None) -> list[AgentEvent]:
    """STAT-D1 login, logout, pause (with reason), wrap-up and RONA events in time order."""
    check_range(start, end)
    agent_list = sorted(set(agents)) if agents is not None else None
    where = f" AND agent IN ({placeholders(agent_list)})" if agent_list else " AND agent != ''"
    rows = connection(db).execute(
        f"SELECT at, agent, event, queue, call_id, data1, data2 FROM queue_log "
        f"WHERE at >= ? AND at < ? AND event IN ({placeholders(list(_DETAIL_EVENTS))}){where} "
        f"ORDER BY at, id", [start, end, *_DETAIL_EVENTS, *(agent_list or [])],
    )
    return [AgentEvent(at, agent, event, queue, call_id, _detail(event, d1, d2))
            for at, agent, event, queue, call_id, d1, d2 in rows]


def _detail(event: str, d1: str, d2: str) -> str:
    return {
        "AGENTLOGIN": f"device {d1}",
        "AGENTLOGOFF": f"device {d1}, logged in {d2} s",
        "PAUSE": f"reason {d1}",
        "UNPAUSE": f"reason {d1}, paused {d2} s",
        "WRAPUPSTART": f"limit {d1} s",
        "WRAPUPEND": f"wrap-up {d1} s",
        "RINGNOANSWER": f"rang {d1} s",
    }.get(event, "")
