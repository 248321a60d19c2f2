"""Reports as rows of named columns: the one shape every output format is made from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from appliance.stats.agents import AGENT_FIGURE_NAMES, agent_report
from appliance.stats.ivr import ivr_report
from appliance.stats.periods import Db, Grouping, TimeZone, iso
from appliance.stats.queues import DEFAULT_SHORT_ABANDON, DEFAULT_SL_SECONDS, queue_report, totals
from appliance.stats.trunks import CDR_COLUMNS, TRUNK_FIGURE_NAMES, cdr_rows, trunk_report

Kind = Literal["queue", "agent", "ivr", "trunk", "cdr"]
KINDS: tuple[str, ...] = ("queue", "agent", "ivr", "trunk", "cdr")

QUEUE_COLUMNS = ("offered", "answered", "abandoned", "abandoned_counted", "abandon_rate",
                 "service_level", "asa", "speed_of_answer", "avg_talk", "avg_abandon_time",
                 "longest_wait", "rona", "timeouts", "exit_key", "exit_empty", "overflowed")
RATIOS = {"abandon_rate", "service_level", "occupancy", "fcr", "timeout_rate", "answer_ratio"}
SECONDS = {"asa", "speed_of_answer", "avg_talk", "avg_abandon_time", "longest_wait",
           "login_time", "idle_time", "paused_time", "inbound_time", "outbound_time",
           "avg_hold", "avg_wrapup", "aht", "avg_duration"}


TIMES = {"start", "answer", "end"}  # CDR columns holding epoch seconds


@dataclass
class Report:
    kind: str
    title: str
    start: float
    end: float
    by: str | None
    columns: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)
    thresholds: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "title": self.title, "from": iso(self.start),
                "to": iso(self.end), "by": self.by or "total", "thresholds": self.thresholds,
                "columns": self.columns, "rows": self.rows}


def build_report(db: Db, kind: str, start: float, end: float, *, now: float,
                 by: Grouping | None = None,
                 tz: TimeZone = "utc", queues: list[str] | None = None,
                 agents: list[str] | None = None,
                 sl_seconds: Mapping[str, float] | None = None,
                 short_abandon: Mapping[str, float] | None = None,
                 sl_default: float = DEFAULT_SL_SECONDS,
                 short_abandon_default: float = DEFAULT_SHORT_ABANDON) -> Report:
    """Compute the ``kind`` report ('queue', 'agent', 'ivr', 'trunk' or 'cdr') as rows.

    ``now`` is the clock's time: agent state still open counts up to it, not to ``end``.
    """
    period = f"{iso(start)} to {iso(end)}"
    if kind == "queue":
        rows = queue_report(db, start, end, queues=queues, by=by, tz=tz,
                            sl_seconds=dict(sl_seconds or {}),
                            short_abandon=dict(short_abandon or {}), sl_default=sl_default,
                            short_abandon_default=short_abandon_default)
        report = Report(kind, f"Queues, {period}", start, end, by,
                        ["interval", "queue", *QUEUE_COLUMNS],
                        thresholds={"sl_seconds": sl_default,
                                    "short_abandon": short_abandon_default,
                                    "per_queue_sl": dict(sl_seconds or {}),
                                    "per_queue_short_abandon": dict(short_abandon or {})})
        for row in rows:
            report.rows.append(_pick(row.figures.as_dict(), interval=row.interval, queue=row.queue))
        if len({r.queue for r in rows}) > 1:
            for interval, figures in sorted(totals(rows).items()):
                combined = figures.as_dict()
                # each queue's calls counted within its own threshold
                combined["service_level"] = (figures.answered_in_sl / figures.offered
                                             if figures.offered else None)
                report.rows.append(_pick(combined, interval=interval, queue="(all)"))
        report.rows.sort(key=lambda r: (r["interval"], r["queue"] == "(all)", r["queue"]))
        return report
    if kind == "agent":
        report = Report(kind, f"Agents, {period}", start, end, by,
                        ["interval", "agent", *AGENT_FIGURE_NAMES])
        for arow in agent_report(db, start, end, now=now, agents=agents, by=by,
                                 tz=tz):
            report.rows.append(_pick(arow.figures.as_dict(), interval=arow.interval,
                                     agent=arow.agent))
        return report
    if kind == "ivr":
        report = Report(kind, f"IVR nodes, {period}", start, end, by,
                        ["interval", "flow", "node", "visits", "calls", "timeouts", "invalid",
                         "timeout_rate", "results"])
        for irow in ivr_report(db, start, end, by=by, tz=tz):
            values = irow.figures.as_dict()
            values["results"] = " ".join(f"{k}:{v}" for k, v in values["results"].items())
            report.rows.append({"interval": irow.interval, "flow": irow.flow, "node": irow.node,
                                **values})
        return report
    if kind == "trunk":
        report = Report(kind, f"Trunks, {period}", start, end, by,
                        ["interval", "trunk", *TRUNK_FIGURE_NAMES])
        for trow in trunk_report(db, start, end, by=by, tz=tz):
            report.rows.append(_pick(trow.figures.as_dict(), interval=trow.interval,
                                     trunk=trow.trunk))
        return report
    if kind == "cdr":
        report = Report(kind, f"Call detail records, {period}", start, end, None,
                        list(CDR_COLUMNS))
        report.rows.extend(cdr_rows(db, start, end))
        return report
    raise ValueError(f"unknown report {kind!r}; choose one of {', '.join(KINDS)}")


def _pick(values: dict[str, Any], **keys: Any) -> dict[str, Any]:
    return {**keys, **values}


def cell(column: str, value: Any) -> str:
    """A value as a person reads it: ratios in percent, seconds with one decimal, CDR times
    as local ISO date and time, '-' for none (JSON and CSV keep the epoch numbers)."""
    if value is None:
        return "-"
    if column in TIMES and isinstance(value, int | float):
        return datetime.fromtimestamp(value).astimezone().isoformat(sep=" ", timespec="seconds")
    if column in RATIOS and isinstance(value, int | float):
        return f"{100.0 * value:.1f}%"
    if (column in SECONDS and isinstance(value, int | float)) or isinstance(value, float):
        return f"{value:.1f}"
    return str(value)
