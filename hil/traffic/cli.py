"""``hil traffic``: simulate a day of calls through the real IVR and ACD in virtual time."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

import click

from hil.traffic.simulate import HANDLE_DISTRIBUTIONS, TrafficParams, simulate

STRATEGIES = (
    "linear",
    "rrmemory",
    "leastrecent",
    "fewestcalls",
    "leasttalk",
    "random",
    "ringall",
    "skills",
)


def _seconds_or_inf(ctx: click.Context, param: click.Parameter, value: str) -> float:
    if value.strip().lower() in ("inf", "infinity", "never"):
        return math.inf
    try:
        seconds = float(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a number of seconds or 'inf'") from None
    if not seconds > 0:
        raise click.BadParameter("must be positive (or 'inf')")
    return seconds


def _profile(ctx: click.Context, param: click.Parameter, value: str) -> list[float]:
    try:
        out = [float(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter(
            f"{value!r}: give comma-separated numbers, e.g. 0.5,1,1.5"
        ) from None
    if not out or any(v < 0 for v in out):
        raise click.BadParameter("give at least one non-negative multiplier")
    return out


FIGURES = (
    ("offered", "offered", "{:d}"),
    ("answered", "answered", "{:d}"),
    ("abandoned", "abandoned", "{:d}"),
    ("abandoned_counted", "counted abandons", "{:d}"),
    ("abandon_rate", "abandon rate", "{:.1%}"),
    ("service_level", "service level", "{:.1%}"),
    ("asa", "average wait (ASA) s", "{:.1f}"),
    ("avg_talk", "average talk s", "{:.1f}"),
    ("longest_wait", "longest wait s", "{:.1f}"),
    ("avg_abandon_time", "average time to abandon s", "{:.1f}"),
    ("rona", "ring-no-answer", "{:d}"),
)


def _text(result: dict[str, Any]) -> str:
    p = result["parameters"]
    lines = [
        f"{result['callers']} callers in {p['hours']:g} h virtual time, {p['agents']} agents, "
        f"strategy {p['strategy']} ({result['cpu_seconds']:.2f} s CPU)",
    ]
    for queue, figures in result["queues"].items():
        lines.append(f"queue {queue} (service level at {p['sl_seconds']:g} s):")
        for key, label, fmt in FIGURES:
            value = figures.get(key)
            shown = "-" if value is None else fmt.format(int(value) if fmt == "{:d}" else value)
            lines.append(f"  {label:<28} {shown}")
    return "\n".join(lines)


@click.command("traffic")
@click.option(
    "--agents",
    type=click.IntRange(min=1),
    default=15,
    show_default=True,
    help="Agents logged in for the whole run",
)
@click.option(
    "--calls-per-hour",
    type=click.FloatRange(min=0, min_open=True),
    default=200.0,
    show_default=True,
    help="Mean arrival rate (Poisson), before the hourly profile",
)
@click.option(
    "--handle-time",
    type=click.FloatRange(min=0, min_open=True),
    default=180.0,
    show_default=True,
    help="Mean talk time in seconds",
)
@click.option(
    "--handle-time-dist",
    type=click.Choice(HANDLE_DISTRIBUTIONS),
    default="exponential",
    show_default=True,
    help="Distribution of the talk time",
)
@click.option(
    "--patience",
    callback=_seconds_or_inf,
    default="120",
    show_default=True,
    help="Mean seconds a caller waits in the queue before hanging up (exponential); "
    "'inf': callers never hang up",
)
@click.option(
    "--hours",
    type=click.FloatRange(min=0, min_open=True),
    default=8.0,
    show_default=True,
    help="Hours of arrivals (virtual time)",
)
@click.option(
    "--strategy",
    type=click.Choice(STRATEGIES),
    default="rrmemory",
    show_default=True,
    help="Queue strategy",
)
@click.option(
    "--sl-seconds",
    type=click.FloatRange(min=0),
    default=20.0,
    show_default=True,
    help="Service-level threshold X",
)
@click.option(
    "--short-abandon",
    type=click.FloatRange(min=0),
    default=5.0,
    show_default=True,
    help="Abandons sooner than this are not counted",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed")
@click.option(
    "--profile",
    callback=_profile,
    default="1",
    show_default=True,
    help="Hourly rate multipliers, comma-separated, repeated over the run",
)
@click.option(
    "--answer-delay",
    type=click.FloatRange(min=0),
    default=3.0,
    show_default=True,
    help="Mean seconds an agent takes to pick up",
)
@click.option(
    "--no-answer",
    type=click.FloatRange(min=0, max=1, max_open=True),
    default=0.0,
    show_default=True,
    help="Probability an agent lets a call ring out (RONA)",
)
@click.option(
    "--ring-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=15.0,
    show_default=True,
    help="Seconds before ring-no-answer",
)
@click.option(
    "--wrapup",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="After-call work seconds",
)
@click.option(
    "--pause-rate",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Pauses per agent per hour",
)
@click.option(
    "--pause-length",
    type=click.FloatRange(min=0, min_open=True),
    default=300.0,
    show_default=True,
    help="Seconds of each pause",
)
@click.option(
    "--queues",
    type=click.IntRange(1, 2),
    default=1,
    show_default=True,
    help="1: one queue 'sales'; 2: the IVR menu splits callers into sales and support",
)
@click.option(
    "--menu-split",
    type=click.FloatRange(0, 1),
    default=1.0,
    show_default=True,
    help="Share of callers pressing 1 (sales) with --queues 2",
)
@click.option(
    "--db",
    "db_path",
    default=":memory:",
    show_default=True,
    help="Database file to keep the events in",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object")
def traffic(db_path: str, as_json: bool, **options: Any) -> None:
    """Simulate callers and agents through the real IVR and ACD in virtual time.

    The figures are computed by appliance.stats from the events the run wrote
    (docs/statistics.md names them).

    Example: hil traffic --agents 15 --calls-per-hour 200 --hours 8 --json
    """
    params = TrafficParams(**options)
    if params.queues == 1:
        params.menu_split = 1.0
    try:
        result = simulate(params, db_path)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        json.dump(result, sys.stdout, default=str)
        sys.stdout.write("\n")
    else:
        click.echo(_text(result))
