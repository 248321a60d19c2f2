"""``appliancectl logs``: the daemons' journal, filtered and as text or JSON.

Reads through ``journalctl -o json`` (set ``APPLIANCE_JOURNALCTL`` to use
another binary, e.g. on a build host). The console's log screen uses
:func:`read_journal` too.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from typing import Any

import click

from appliance.cli.common import (
    EXIT_UNAVAILABLE,
    CliError,
    output_options,
    print_json,
)

UNITS = {"telephonyd": "appliance-telephonyd.service", "powerd": "appliance-powerd.service"}
PRIORITIES = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")
# the structured fields the daemons attach (appliance.runtime.logs) worth showing
FIELDS = ("SPAN", "CHANNEL", "PORT", "CAUSE", "CALL_ID", "QUEUE", "AGENT")


def journalctl_binary() -> str:
    return os.environ.get("APPLIANCE_JOURNALCTL", "journalctl")


def journal_command(daemons: list[str], lines: int, priority: str | None, since: str | None,
                    follow: bool = False) -> list[str]:
    command = [journalctl_binary(), "--no-pager", "-o", "json", "-n", str(lines)]
    for daemon in daemons:
        command += ["-u", UNITS[daemon]]
    if priority:
        command += ["-p", priority]
    if since:
        command += ["--since", since]
    if follow:
        command.append("-f")
    return command


def parse_entry(line: str) -> dict[str, Any] | None:
    """One journal JSON line as {at, daemon, priority, message, fields}; None if not JSON."""
    try:
        raw = json.loads(line)
    except json.JSONDecodeError:
        return None
    if not isinstance(raw, dict):
        return None
    message = raw.get("MESSAGE", "")
    if isinstance(message, list):  # journalctl sends non-UTF-8 messages as byte arrays
        message = bytes(message).decode("utf-8", "replace")
    try:
        priority = PRIORITIES[int(raw.get("PRIORITY", 6))]
    except (ValueError, IndexError):
        priority = "info"
    return {
        "at": int(raw.get("__REALTIME_TIMESTAMP", 0)) / 1e6,
        "daemon": raw.get("SYSLOG_IDENTIFIER", raw.get("_SYSTEMD_UNIT", "")),
        "priority": priority,
        "message": str(message),
        "fields": {k.lower(): raw[k] for k in FIELDS if k in raw},
    }


def format_entry(entry: dict[str, Any]) -> str:
    when = dt.datetime.fromtimestamp(entry["at"]).strftime("%m-%d %H:%M:%S")
    fields = " ".join(f"{k}={v}" for k, v in entry["fields"].items())
    return f"{when} {entry['daemon']} {entry['priority']}: {entry['message']}" + (
        f" [{fields}]" if fields else ""
    )


def read_journal(daemons: list[str], lines: int = 50, priority: str | None = None,
                 since: str | None = None, timeout: float = 5.0) -> list[dict[str, Any]]:
    """The last ``lines`` journal entries of ``daemons``, oldest first."""
    command = journal_command(daemons, lines, priority, since)
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError as exc:
        raise CliError(f"{command[0]}: not found; is systemd's journal on this system?",
                       EXIT_UNAVAILABLE) from exc
    except subprocess.TimeoutExpired as exc:
        raise CliError(f"{command[0]}: no answer within {timeout:g} s", EXIT_UNAVAILABLE) from exc
    if done.returncode != 0:
        raise CliError(f"{command[0]} failed: {done.stderr.strip() or done.returncode}")
    entries = [parse_entry(line) for line in done.stdout.splitlines() if line.strip()]
    return [e for e in entries if e is not None]


@click.command("logs")
@click.option("--daemon", "daemon", type=click.Choice([*UNITS, "all"]), default="all",
              show_default=True, help="Whose log to show.")
@click.option("-n", "--lines", default=50, show_default=True, type=click.IntRange(1, 100000))
@click.option("-p", "--priority", type=click.Choice(PRIORITIES),
              help="Only this priority and more urgent.")
@click.option("--since", metavar="WHEN", help="journalctl time, e.g. '1 hour ago' or '2026-11-23'.")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new entries (Ctrl-C stops).")
@output_options
def logs(daemon: str, lines: int, priority: str | None, since: str | None, follow: bool,
         as_json: bool) -> None:
    """Show the daemons' log from the journal, with their structured fields.

    Example: appliancectl logs --daemon telephonyd -p warning --since '1 hour ago'
    """
    daemons = list(UNITS) if daemon == "all" else [daemon]
    if follow:
        command = journal_command(daemons, lines, priority, since, follow=True)
        try:
            process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        except FileNotFoundError as exc:
            raise CliError(f"{command[0]}: not found", EXIT_UNAVAILABLE) from exc
        assert process.stdout is not None
        try:
            for line in process.stdout:
                entry = parse_entry(line)
                if entry is not None:
                    click.echo(json.dumps(entry) if as_json else format_entry(entry))
        except KeyboardInterrupt:
            process.terminate()
        return
    entries = read_journal(daemons, lines, priority, since)
    if as_json:
        print_json({"entries": entries})
        return
    for entry in entries:
        click.echo(format_entry(entry))
