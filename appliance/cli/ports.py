"""``appliancectl ports``: analog FXO/FXS port status (MON-1, OPS-1)."""

from __future__ import annotations

from typing import Any

import click

from appliance.cli.audit import query
from appliance.cli.common import Context, output_options, pass_context, print_json, print_table

COLUMNS = ["name", "kind", "state", "hook", "battery", "call_id", "address"]


def port_row(port: dict[str, Any]) -> dict[str, Any]:
    return {
        **port,
        "battery": "yes" if port.get("battery") else "NO",
        "call_id": port.get("call_id") or "-",
    }


@click.group("ports")
def ports_group() -> None:
    """Analog ports: line state, hook, loop battery and current call.

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
    for key, value in port_row(result).items():
        click.echo(f"{key:<8} {value}")
