"""``appliancectl sip``: the SIP edge (issue 16; docs/sip.md)."""

from __future__ import annotations

import dataclasses

import click

from appliance.cli.common import (
    EXIT_UNAVAILABLE,
    CliError,
    Context,
    output_options,
    pass_context,
    print_json,
    print_table,
)
from appliance.signalling.sip.registrations import RegistrationsError, dump, rpc_socket


@click.group("sip")
def sip_group() -> None:
    """SIP phones behind Kamailio: registrations.

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
