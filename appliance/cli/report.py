"""``appliancectl report``: queue, agent, IVR, trunk and CDR reports (docs/statistics.md)."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3

import click

from appliance.cli.common import EXIT_REFUSED, CliError, Context, pass_context
from appliance.config.sections.stats import StatsSection
from appliance.runtime.clock import Clock, RealClock
from appliance.stats import StatsError, parse_time
from appliance.stats.html import render_html
from appliance.stats.periods import Grouping, TimeZone
from appliance.stats.reports import Report, build_report, cell
from appliance.store.db import connect

CLOCK: Clock = RealClock()  # "now" of every report: open agent sessions count up to it


def stats_settings(ctx: Context) -> StatsSection:
    """The ``[stats]`` table, or its defaults before it is wired into the configuration."""
    section = getattr(ctx.config(), "stats", None)
    return section if isinstance(section, StatsSection) else StatsSection()


def open_readonly(ctx: Context, db_path: str | None) -> sqlite3.Connection:
    """Reports only read: a read-only connection, so they can never change the history."""
    path = db_path or ctx.config().paths.database_path
    if not os.path.exists(path):
        raise CliError(f"database {path} does not exist; give --db or check paths.database")
    try:
        return connect(path, readonly=True)
    except sqlite3.Error as exc:
        raise CliError(f"cannot open database {path}: {exc}") from exc


def emit(report: Report, fmt: str, output: str | None) -> None:
    """Write the report in ``fmt`` to ``output`` (a file) or stdout."""
    if fmt == "json":
        text = json.dumps(report.as_dict(), indent=2, default=str) + "\n"
    elif fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=report.columns, extrasaction="ignore",
                                lineterminator="\r\n")
        writer.writeheader()
        writer.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in report.rows)
        text = buffer.getvalue()
    elif fmt == "html":
        text = render_html(report)
    else:
        text = _table(report)
    if output is None or output == "-":
        click.echo(text, nl=False)
        return
    try:
        with open(output, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    except OSError as exc:
        raise CliError(f"cannot write {output}: {exc.strerror}") from exc
    click.echo(f"{report.kind} report: {len(report.rows)} rows written to {output}", err=True)


def _table(report: Report) -> str:
    columns = report.columns
    cells = [[cell(c, r.get(c)) for c in columns] for r in report.rows]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]
    lines = [report.title,
             "  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
              for row in cells]
    if not report.rows:
        lines.append("(no data in this range)")
    return "\n".join(lines) + "\n"


def _report_command(kind: str, doc: str) -> click.Command:
    @click.command(kind, help=doc)
    @click.option("--from", "start", required=True, metavar="TIME",
                  help="Start, inclusive: 2026-11-23, 2026-11-23T08:00, +01:00 offsets, or epoch.")
    @click.option("--to", "end", required=True, metavar="TIME", help="End, exclusive.")
    @click.option("--by", type=click.Choice(["hour", "day", "month", "year"]),
                  help="Group by interval [default: one total for the range].")
    @click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "html"]),
                  default="table", show_default=True)
    @click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
    @click.option("--output", "-o", metavar="FILE", help="Write to FILE instead of stdout.")
    @click.option("--queue", "queues", multiple=True, help="Only this queue (repeatable).")
    @click.option("--agent", "agents", multiple=True, help="Only this agent (repeatable).")
    @click.option("--tz", type=click.Choice(["utc", "local"]),
                  help="Time zone of intervals and of --from/--to [default: [stats] timezone].")
    @click.option("--db", "db_path", metavar="FILE", help="Database [default: configuration].")
    @pass_context
    def command(ctx: Context, start: str, end: str, by: str | None, fmt: str, as_json: bool,
                output: str | None, queues: tuple[str, ...], agents: tuple[str, ...],
                tz: str | None, db_path: str | None) -> None:
        settings = stats_settings(ctx) if db_path is None else _settings_if_any(ctx)
        zone: TimeZone = "utc" if (tz or settings.timezone) == "utc" else "local"
        try:
            begin, finish = parse_time(start, zone), parse_time(end, zone)
            conn = open_readonly(ctx, db_path)
            try:
                report = build_report(
                    conn, kind, begin, finish, now=CLOCK.time(), by=_grouping(by), tz=zone,
                    queues=list(queues) or None, agents=list(agents) or None,
                    sl_seconds=settings.sl_table(), short_abandon=settings.short_abandon_table(),
                    sl_default=settings.sl_seconds,
                    short_abandon_default=settings.short_abandon)
            finally:
                conn.close()
        except StatsError as exc:
            raise CliError(str(exc), EXIT_REFUSED) from exc
        except sqlite3.Error as exc:
            raise CliError(f"cannot read the event tables: {exc}") from exc
        emit(report, "json" if as_json else fmt, output)

    return command


def _grouping(by: str | None) -> Grouping | None:
    if by == "hour":
        return "hour"
    if by == "day":
        return "day"
    if by == "month":
        return "month"
    if by == "year":
        return "year"
    return None


def _settings_if_any(ctx: Context) -> StatsSection:
    """With --db the configuration is optional: its [stats] thresholds when it loads."""
    try:
        return stats_settings(ctx)
    except (CliError, OSError):
        return StatsSection()


@click.group("report")
def report() -> None:
    """Statistics reports computed from the event tables (queue, agent, IVR, trunk, CDR).

    Figures and formulas: docs/statistics.md.

    Example: appliancectl report queue --from 2026-11-01 --to 2026-12-01 --by day --format html
    """


_DOCS: dict[str, str] = {
    "queue": "Queue figures STAT-Q1..Q11: offered, answered, abandons, service level, ASA...\n\n"
             "Example: appliancectl report queue --from 2026-11-23 --to 2026-11-24 --by hour",
    "agent": "Agent figures STAT-A1..A4: login, idle, pause, hold, wrap-up, AHT, occupancy, "
             "FCR, QA score.\n\n"
             "Example: appliancectl report agent --from 2026-11-01 --to 2026-12-01 --agent a1",
    "ivr": "IVR node visits, distinct calls, timeouts, invalid entries and results.\n\n"
           "Example: appliancectl report ivr --from 2026-11-23 --to 2026-11-24 --format csv",
    "trunk": "Trunk calls, answers, failures, traffic in erlangs and peak busy channels.\n\n"
             "Example: appliancectl report trunk --from 2026-11-23 --to 2026-11-24 --by hour",
    "cdr": "Call detail records (STAT-D2); use --format csv for the CDR export.\n\n"
           "Example: appliancectl report cdr --from 2026-11-01 --to 2026-12-01 --format csv",
}

for _kind, _doc in _DOCS.items():
    report.add_command(_report_command(_kind, _doc))
