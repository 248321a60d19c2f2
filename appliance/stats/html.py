"""One self-contained HTML file per report: tables plus charts drawn with matplotlib (Agg backend)
and inlined as SVG, so the file can be mailed or archived and opened anywhere offline."""

from __future__ import annotations

import html
import io
import re
from typing import Any

from appliance.stats.reports import Report, cell

_STYLE = """
body{font-family:sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;font-size:13px;margin:1em 0}
th,td{border:1px solid #bbb;padding:3px 7px;text-align:right}
th{background:#eee} td.k{text-align:left}
.chart{margin:1em 0}
"""


def _svg(figure: Any) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    return re.sub(r"^.*?(<svg)", r"\1", text, count=1, flags=re.S)  # drop XML prolog/DOCTYPE


def _pyplot() -> Any:
    import matplotlib  # heavy: imported only when a report is drawn

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "appliance-report"  # stable ids: same data, same file
    matplotlib.rcParams["svg.fonttype"] = "none"
    import matplotlib.pyplot as plt

    return plt


def queue_chart(report: Report) -> str:
    """Offered/answered/abandoned bars and the service level line per interval."""
    plt = _pyplot()
    queues = {r["queue"] for r in report.rows}
    keep = "(all)" if "(all)" in queues else None
    rows = [r for r in report.rows if keep is None or r["queue"] == keep]
    labels = [r["interval"] for r in rows] if keep or len(queues) <= 1 else [
        f"{r['interval']} {r['queue']}" for r in rows]
    figure, axis = plt.subplots(figsize=(max(6.0, 0.5 * len(rows)), 3.5))
    positions = list(range(len(rows)))
    width = 0.27
    for shift, key, colour in ((-width, "offered", "#4c72b0"), (0.0, "answered", "#55a868"),
                               (width, "abandoned", "#c44e52")):
        axis.bar([p + shift for p in positions], [r[key] for r in rows], width, label=key,
                 color=colour)
    axis.set_ylabel("calls")
    axis.set_xticks(positions, labels, rotation=45, ha="right", fontsize=8)
    level = axis.twinx()
    level.plot(positions, [100.0 * (r["service_level"] or 0.0) for r in rows], "k.-",
               label="service level")
    level.set_ylim(0, 105)
    level.set_ylabel("service level %")
    handles = axis.get_legend_handles_labels()[0] + level.get_legend_handles_labels()[0]
    axis.legend(handles, [h.get_label() for h in handles], fontsize=8, loc="upper left")
    axis.set_title("Calls and service level per interval")
    svg = _svg(figure)
    plt.close(figure)
    return svg


def agent_chart(report: Report) -> str:
    """Occupancy per agent over the whole range."""
    plt = _pyplot()
    busy: dict[str, float] = {}
    available: dict[str, float] = {}
    for r in report.rows:
        agent = r["agent"]
        busy[agent] = busy.get(agent, 0.0) + r["inbound_time"] + r["outbound_time"] + r[
            "wrapup_time"]
        available[agent] = available.get(agent, 0.0) + r["login_time"] - r["paused_time"]
    agents = sorted(busy)
    values = [100.0 * busy[a] / available[a] if available[a] else 0.0 for a in agents]
    figure, axis = plt.subplots(figsize=(max(5.0, 0.5 * len(agents)), 3.0))
    axis.bar(agents, values, color="#8172b2")
    axis.set_ylim(0, 100)
    axis.set_ylabel("occupancy %")
    axis.set_title("Agent occupancy")
    axis.tick_params(axis="x", labelrotation=45, labelsize=8)
    svg = _svg(figure)
    plt.close(figure)
    return svg


def render_html(report: Report) -> str:
    charts: list[str] = []
    if report.rows and report.kind == "queue":
        charts.append(queue_chart(report))
    if report.rows and report.kind == "agent":
        charts.append(agent_chart(report))
    head = "".join(f"<th>{html.escape(c)}</th>" for c in report.columns)
    body = []
    for row in report.rows:
        cells = "".join(
            f"<td class=\"k\">{html.escape(cell(c, row.get(c)))}</td>" if i < 3 and isinstance(
                row.get(c), str) else f"<td>{html.escape(cell(c, row.get(c)))}</td>"
            for i, c in enumerate(report.columns))
        body.append(f"<tr>{cells}</tr>")
    thresholds = "".join(f"<li>{html.escape(k)}: {html.escape(str(v))}</li>"
                         for k, v in report.thresholds.items())
    return (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(report.title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(report.title)}</h1>"
        f"<p>Grouped by {html.escape(report.by or 'whole range')}. Figures are defined in "
        "docs/statistics.md.</p>"
        + (f"<ul>{thresholds}</ul>" if thresholds else "")
        + "".join(f"<div class=\"chart\">{svg}</div>" for svg in charts)
        + f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        + ("<p>No data in this range.</p>" if not report.rows else "")
        + "</body></html>\n"
    )
