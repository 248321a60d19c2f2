"""``appliancectl ports``: analog FXO/FXS port status and maintenance (MON-1, OPS-1)."""

from __future__ import annotations

from typing import Any

import click

from appliance.cli.audit import audited_call, query
from appliance.cli.common import Context, output_options, pass_context, print_json, print_table

COLUMNS = ["name", "kind", "state", "hook", "battery", "call_id", "address"]


def human(value: Any) -> str:
    """A status value as a person reads it: yes/no, '-' for none, lists joined."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None or value == "" or value == [] or value == {}:
        return "-"
    if isinstance(value, list | tuple):
        return ", ".join(human(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} {human(v)}" for k, v in value.items())
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def port_row(port: dict[str, Any]) -> dict[str, Any]:
    return {
        **{key: human(value) for key, value in port.items()},
        "battery": "yes" if port.get("battery") else "NO",
    }


@click.group("ports")
def ports_group() -> None:
    """Analog ports: line state, hook, loop battery, current call and busy-out.

    Example: appliancectl ports list
    """


@ports_group.command("list")
@output_options
@pass_context
def list_ports(ctx: Context, as_json: bool) -> None:
    """List every FXO and FXS port.

    Example: appliancectl ports list --json
    """
    result = query(ctx, "telephonyd", "ports.list")
    if as_json:
        print_json(result)
        return
    print_table([port_row(p) for p in result["ports"]], COLUMNS)


@ports_group.command("show")
@click.argument("port")
@output_options
@pass_context
def show_port(ctx: Context, port: str, as_json: bool) -> None:
    """Show one port.

    Example: appliancectl ports show fxo1
    """
    result = query(ctx, "telephonyd", "ports.show", port=port)
    if as_json:
        print_json(result)
        return
    rows = port_row(result)
    width = max(len(key) for key in rows)
    for key, value in rows.items():
        click.echo(f"{key.replace('_', ' '):<{width}}  {value}")


@ports_group.command("busy-out")
@click.argument("port")
@click.option("--off", "release", is_flag=True, help="Return the port to service.")
@output_options
@pass_context
def busy_out(ctx: Context, port: str, release: bool, as_json: bool) -> None:
    """Take analog PORT out of service (or back with --off).

    A busied-out FXO line is held off-hook so the carrier sends it no calls and
    nothing is dialled on it; a busied-out FXS phone is not rung and hears
    reorder when lifted. A port in a call is blocked when that call ends.
    An unknown port exits 1, a port that could not be opened is refused (exit 4).

    Example: appliancectl ports busy-out fxo1
    """
    result = audited_call(
        ctx, "telephonyd", "ports.busy_out", "port.busy_out", port, port=port, on=not release,
    )
    if as_json:
        print_json(result)
        return
    pending = result.get("busied_out") and result["state"] not in ("blocked", "maintenance")
    note = "; blocked when its call ends" if pending else ""
    click.echo(f"{result['name']}: {result['state']}{note}")
