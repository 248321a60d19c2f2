"""``appliancectl power``: UPS, mains, relays and the lifeline (PWR-1, PWR-3)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from appliance.cli.audit import audited_call, query
from appliance.cli.common import Context, output_options, pass_context, print_json, print_table


def power_lines(status: dict[str, Any]) -> list[str]:
    """The power status as text lines (shared with the console)."""
    ups = status.get("ups", {})
    lifeline = status.get("lifeline", {})
    inp = status.get("input", {})
    lines = [
        f"state     {status.get('state', '-')}   mains {'ON' if status.get('mains') else 'OFF'}",
        f"UPS       {' '.join(ups.get('status', [])) or '-'}  charge {ups.get('charge', '-')}%  "
        f"runtime {ups.get('runtime', '-')} s" + ("  (STALE)" if ups.get("stale") else ""),
        f"input     {inp.get('volts', '-')} V  {inp.get('amps', '-')} A   "
        f"temperature {status.get('temperature', '-')} C",
        f"lifeline  {'ENGAGED' if lifeline.get('engaged') else 'released'}"
        + (f" ({lifeline['reason']})" if lifeline.get("reason") else ""),
    ]
    for relay in lifeline.get("relays", []):
        energised = "energised" if relay.get("energised") else "de-energised"
        readback = relay.get("readback")
        mismatch = "" if readback == relay.get("energised") else "  READBACK MISMATCH"
        lines.append(
            f"  relay pair {relay.get('pair')}: {energised}, readback {readback}{mismatch}"
        )
    return lines


@click.group("power")
def power_group() -> None:
    """Mains, UPS, lifeline relays: status, history and a lifeline test.

    Example: appliancectl power status
    """


@power_group.command("status")
@output_options
@pass_context
def power_status(ctx: Context, as_json: bool) -> None:
    """Show mains, UPS flags, charge and runtime, and the lifeline relays.

    Example: appliancectl power status --json
    """
    result = query(ctx, "powerd", "power.status")
    if as_json:
        print_json(result)
        return
    for line in power_lines(result):
        click.echo(line)


@power_group.command("history")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10000))
@output_options
@pass_context
def history(ctx: Context, limit: int, as_json: bool) -> None:
    """Show the latest power state changes, oldest first.

    Example: appliancectl power history --limit 20
    """
    result = query(ctx, "powerd", "power.history", limit=limit)
    if as_json:
        print_json(result)
        return
    rows = [
        {**e, "at": dt.datetime.fromtimestamp(float(e["at"])).strftime("%Y-%m-%d %H:%M:%S")}
        for e in result["events"]
    ]
    print_table(rows, ["at", "previous", "state", "reason"])


@power_group.command("test-lifeline")
@click.option("--seconds", default=10, show_default=True, type=click.IntRange(1, 300),
              help="How long the carrier lines stay switched to the analog phones.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (for scripts).")
@output_options
@pass_context
def test_lifeline(ctx: Context, seconds: int, yes: bool, as_json: bool) -> None:
    """Switch the carrier lines to the lifeline phones for SECONDS, then back.

    Calls on the analog lines drop while the relays are switched.

    Example: appliancectl power test-lifeline --seconds 10 --yes
    """
    if not yes:
        click.confirm(f"Engage the lifeline for {seconds} s? Calls on analog lines will drop",
                      abort=True)
    result = audited_call(ctx, "powerd", "power.test_lifeline", "power.test_lifeline", "lifeline",
                          seconds=seconds)
    if as_json:
        print_json(result)
    else:
        until = dt.datetime.fromtimestamp(float(result["until"])).strftime("%H:%M:%S")
        click.echo(f"lifeline engaged until {until}")
