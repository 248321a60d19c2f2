"""``appliancectl sip``: the SIP edge (issue 16; docs/sip.md)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import click

from appliance.cli.audit import audit_change, query
from appliance.cli.common import (
    EXIT_REFUSED,
    EXIT_UNAVAILABLE,
    CliError,
    Context,
    output_options,
    pass_context,
    print_json,
    print_table,
)
from appliance.signalling.sip.registrations import (
    RegistrationsError,
    bans,
    dump,
    lift,
    rpc_socket,
)


@click.group("sip")
def sip_group() -> None:
    """SIP phones and trunks behind Kamailio: registrations, trunks, banned sources.

    Example: appliancectl sip registrations
    """


@sip_group.command("registrations")
@output_options
@pass_context
def registrations(ctx: Context, as_json: bool) -> None:
    """Registered SIP contacts per extension, with seconds to expiry (from Kamailio's usrloc).

    Example: appliancectl sip registrations --json
    """
    try:
        found = dump(_rpc(ctx))
    except RegistrationsError as exc:
        raise CliError(str(exc), EXIT_UNAVAILABLE) from exc
    rows = [dataclasses.asdict(r) for r in found]
    _show("registrations", rows, as_json, "no SIP registrations",
          ["extension", "contact", "expires", "user_agent"],
          lambda e: "permanent" if e is None else f"{e} s")


def _rpc(ctx: Context) -> str:
    return rpc_socket(ctx.config().paths.run_dir)


def _show(key: str, rows: list[dict[str, Any]], as_json: bool, empty: str,
          columns: list[str], expires: Callable[[Any], str]) -> None:
    """``{key: rows}`` as JSON, or a table with the ``expires`` column written out."""
    if as_json:
        print_json({key: rows})
    elif not rows:
        click.echo(empty)
    else:
        print_table([{**r, "expires": expires(r["expires"])} for r in rows], columns)


@sip_group.command("trunks")
@output_options
@pass_context
def trunks(ctx: Context, as_json: bool) -> None:
    """SIP trunks (IP-authenticated carriers): the peer address and the calls up on each,
    of its [sip.trunks.NAME] max_calls (from telephonyd).

    Example: appliancectl sip trunks
    """
    found = query(ctx, "telephonyd", "sip.trunks")
    if not found.get("enabled"):
        raise CliError("SIP is off ([sip] enabled = false)", EXIT_UNAVAILABLE)
    rows = [{**t, "calls": f"{t['calls']}/{t['max_calls']}"} for t in found["trunks"]]
    if as_json:
        print_json({"trunks": found["trunks"]})
    elif not rows:
        click.echo("no SIP trunks configured ([sip.trunks])")
    else:
        print_table(rows, ["trunk", "peer", "calls"])


@sip_group.command("bans")
@output_options
@pass_context
def list_bans(ctx: Context, as_json: bool) -> None:
    """Sources Kamailio bans now (a request flood, or too many failed digest logins), with
    seconds to expiry ([sip] ban_seconds).

    Example: appliancectl sip bans
    """
    try:
        found = bans(_rpc(ctx), ctx.config().sip.ban_seconds)
    except RegistrationsError as exc:
        raise CliError(str(exc), EXIT_UNAVAILABLE) from exc
    _show("bans", [dataclasses.asdict(b) for b in found], as_json, "no SIP source is banned",
          ["source", "reason", "expires"], lambda e: f"{e} s")

@sip_group.command("unban")
@click.argument("source")
@pass_context
def unban(ctx: Context, source: str) -> None:
    """Lift the ban on SOURCE (an IP address) now; audited.

    Example: appliancectl sip unban 192.0.2.7
    """
    def change() -> None:
        try:
            lifted = lift(_rpc(ctx), source)
        except RegistrationsError as exc:
            raise CliError(str(exc), EXIT_UNAVAILABLE) from exc
        if not lifted:
            raise CliError(f"{source} is not banned", EXIT_REFUSED)

    audit_change(ctx, "sip.unban", source, change)
    click.echo(f"{source}: ban lifted")
