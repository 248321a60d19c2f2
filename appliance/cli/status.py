"""``appliancectl status``: each daemon's state, uptime, version and hardware."""

from __future__ import annotations

from typing import Any

import click

from appliance.cli.common import (
    EXIT_REFUSED,
    EXIT_UNAVAILABLE,
    CliError,
    Context,
    daemon_call,
    output_options,
    pass_context,
    print_json,
    print_table,
)
from appliance.runtime.service import DaemonName

DAEMONS: tuple[DaemonName, ...] = ("telephonyd", "powerd")


def collect(ctx: Context, timeout: float) -> list[dict[str, Any]]:
    config = ctx.config()
    rows: list[dict[str, Any]] = []
    for name in DAEMONS:
        socket_path = config.control_socket(name)
        try:
            status = daemon_call(socket_path, "status", timeout)
            rows.append(status)
        except CliError as exc:  # a daemon that answers "forbidden" is running, not ours to see
            state = "refused" if exc.exit_code == EXIT_REFUSED else "not running"
            rows.append({"daemon": name, "state": state, "healthy": False, "error": exc.message})
    return rows


@click.command()
@output_options
@click.option("--timeout", default=3.0, show_default=True, help="Seconds to wait for each daemon.")
@pass_context
def status(ctx: Context, as_json: bool, timeout: float) -> None:
    """Show each daemon's state, uptime, version and configured hardware.

    Exits 3 when a daemon is not running or does not answer, 4 when this user's account may
    not see it.

    Example: appliancectl status --json
    """
    rows = collect(ctx, timeout)
    if as_json:
        print_json({"daemons": rows})
    else:
        table = [
            {
                "daemon": r["daemon"],
                "state": r["state"],
                "healthy": "yes" if r.get("healthy") else "no",
                "uptime": _uptime(r.get("uptime")),
                "version": r.get("version", "-"),
                "pid": r.get("pid", "-"),
            }
            for r in rows
        ]
        print_table(table, ["daemon", "state", "healthy", "uptime", "version", "pid"])
        hardware = next((r["hardware"] for r in rows if "hardware" in r), None)
        if hardware:
            click.echo("")
            for span in hardware["spans"]:
                click.echo(f"span  {span['name']:<12} {span['address']}")
            for port in hardware["ports"]:
                click.echo(f"{port['kind']:<5} {port['name']:<12} {port['address']}")
            for kind in ("board", "ups", "watchdog"):
                click.echo(f"{kind:<17} {hardware[kind]}")
        for r in rows:
            if "error" in r:
                click.echo(f"{r['daemon']}: {r['error']}", err=True)
    if any(r["state"] == "refused" for r in rows):
        raise SystemExit(EXIT_REFUSED)
    if any(r["state"] != "running" for r in rows):
        raise SystemExit(EXIT_UNAVAILABLE)


def _uptime(seconds: Any) -> str:
    if not isinstance(seconds, int | float):
        return "-"
    s = int(seconds)
    days, s = divmod(s, 86400)
    hours, s = divmod(s, 3600)
    minutes, s = divmod(s, 60)
    return (
        f"{days}d{hours:02d}:{minutes:02d}:{s:02d}"
        if days
        else f"{hours:02d}:{minutes:02d}:{s:02d}"
    )
