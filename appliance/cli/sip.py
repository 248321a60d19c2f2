"""``appliancectl sip``: the SIP edge (issue 16; docs/sip.md)."""

from __future__ import annotations

import dataclasses

import click

from appliance.cli.audit import audit_change
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
    """SIP phones behind Kamailio: registrations, banned sources.

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
        found = dump(rpc_socket(ctx.config().paths.run_dir))
    except RegistrationsError as exc:
        raise CliError(str(exc), EXIT_UNAVAILABLE) from exc
    rows = [dataclasses.asdict(r) for r in found]
    if as_json:
        print_json({"registrations": rows})
        return
    if not rows:
        click.echo("no SIP registrations")
        return
    print_table([{**r, "expires": "permanent" if r["expires"] is None else f"{r['expires']} s"}
                 for r in rows], ["extension", "contact", "expires", "user_agent"])


def _rpc(ctx: Context) -> str:
    return rpc_socket(ctx.config().paths.run_dir)


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
    rows = [dataclasses.asdict(b) for b in found]
    if as_json:
        print_json({"bans": rows})
        return
    if not rows:
        click.echo("no SIP source is banned")
        return
    print_table([{**r, "expires": f"{r['expires']} s"} for r in rows],
                ["source", "reason", "expires"])


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
