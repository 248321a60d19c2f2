"""``appliancectl sip``: the SIP edge (issue 16; docs/sip.md)."""

from __future__ import annotations

import dataclasses
import secrets
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
from appliance.cli.edit import Tree, apply_option, edit_config, file_option, print_applied
from appliance.config.sections.sip import PASSWORD_PATTERN, SipSection
from appliance.config.validate import Problem, build
from appliance.signalling.sip.registrations import (
    RegistrationsError,
    bans,
    dump,
    lift,
    login_failures,
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
    """Registered SIP contacts per extension, with seconds to expiry and, for a phone behind
    a NAT, the address its registration came from (from Kamailio's usrloc).

    Example: appliancectl sip registrations --json
    """
    try:
        found = dump(_rpc(ctx))
    except RegistrationsError as exc:
        raise CliError(str(exc), EXIT_UNAVAILABLE) from exc
    rows = [dataclasses.asdict(r) for r in found]
    _show("registrations", rows, as_json, "no SIP registrations",
          ["extension", "contact", "received", "expires", "user_agent"],
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
    seconds to expiry ([sip] ban_seconds); then the failed digest logins per extension
    over the last hour (a password being guessed from many addresses shows there).

    Example: appliancectl sip bans
    """
    try:
        found = bans(_rpc(ctx), ctx.config().sip.ban_seconds)
        failures = login_failures(_rpc(ctx))
    except RegistrationsError as exc:
        raise CliError(str(exc), EXIT_UNAVAILABLE) from exc
    rows = [dataclasses.asdict(b) for b in found]
    failed = [{"extension": e, "failures": n} for e, n in failures.items()]
    if as_json:
        print_json({"bans": rows, "failed_logins": failed})
        return
    _show("bans", rows, False, "no SIP source is banned", ["source", "reason", "expires"],
          lambda e: f"{e} s")
    if failed:
        click.echo("failed digest logins in the last hour:")
        print_table(failed, ["extension", "failures"])

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


@sip_group.group("extensions")
def extensions_group() -> None:
    """SIP extensions (agents' phones) and their digest credentials in [sip.extensions].

    Example: appliancectl sip extensions add 2002 --apply
    """


def _edit_extensions(ctx: Context, file: str | None, action: str, number: str,
                     change: Callable[[dict[str, Any], Tree], None],
                     apply: bool) -> tuple[str, Any]:
    """Change ``[sip.extensions]`` (checked by the [sip] schema); no secret is audited."""
    def change_tree(tree: Tree) -> None:
        change(tree.setdefault("sip", {}).setdefault("extensions", {}), tree)

    def check(tree: Tree) -> list[Problem]:
        problems: list[Problem] = []
        build(SipSection, tree["sip"], ("sip",), problems)
        return problems

    return edit_config(ctx, file, action, number, change_tree, check, apply, {})


def _password(given: str | None) -> tuple[str, bool]:
    """The password given, or a new random one (shown once); whether it was made here."""
    if given is not None:
        return given, False
    return secrets.token_urlsafe(15), True  # 120 bits, in PASSWORD_PATTERN's alphabet


def _known(number: str, extensions: dict[str, Any]) -> None:
    if number not in extensions:
        raise CliError(f"no extension {number}; known: "
                       f"{', '.join(sorted(extensions)) or 'none'}", EXIT_REFUSED)


def _write_password(ctx: Context, file: str | None, apply: bool, number: str,
                    password: str | None, *, new: bool) -> None:
    """Add extension ``number`` (``new``) or give it a new password: the one given, or a
    random one shown once (never audited)."""
    secret, made = _password(password)

    def change(extensions: dict[str, Any], tree: Tree) -> None:
        if new and number in extensions:
            raise CliError(f"extension {number} already exists", EXIT_REFUSED)
        if not new:
            _known(number, extensions)
        extensions[number] = {**extensions.get(number, {}), "password": secret}

    action = "sip.extension.add" if new else "sip.extension.passwd"
    path, reports = _edit_extensions(ctx, file, action, number, change, apply)
    print_applied(f"extension {number}: " + (f"added to {path}" if new else
                                             f"new password in {path}"), reports)
    if made:
        click.echo(f"password: {secret}  (shown once; set it on the phone)")


_password_option = click.option(
    "--password", default=None, metavar="TEXT",
    help=f"Digest password ({PASSWORD_PATTERN}); default: a random one, shown once.")


@extensions_group.command("list")
@output_options
@pass_context
def list_extensions(ctx: Context, as_json: bool) -> None:
    """The SIP extensions of the configuration, with the agents whose device each is.

    Example: appliancectl sip extensions list
    """
    config = ctx.config()
    agents: dict[str, list[str]] = {}
    for a in config.acd.agents:
        agents.setdefault(a.device.removeprefix("sip:"), []).append(a.id)
    rows = [{"extension": n, "agents": " ".join(agents.get(n, [])) or "-"}
            for n in sorted(config.sip.extensions)]
    if as_json:
        print_json({"extensions": rows})
    elif not rows:
        click.echo("no SIP extensions ([sip.extensions])")
    else:
        print_table(rows, ["extension", "agents"])


@extensions_group.command("add")
@click.argument("number")
@_password_option
@file_option
@apply_option
@pass_context
def add_extension(ctx: Context, number: str, password: str | None, file: str | None,
                  apply: bool) -> None:
    """Add SIP extension NUMBER with a digest password; with --apply the phone can register
    at once (Kamailio reloads its credentials; no registration is dropped). Audited.

    Example: appliancectl sip extensions add 2002 --apply
    """
    _write_password(ctx, file, apply, number, password, new=True)


@extensions_group.command("passwd")
@click.argument("number")
@_password_option
@file_option
@apply_option
@pass_context
def passwd_extension(ctx: Context, number: str, password: str | None, file: str | None,
                     apply: bool) -> None:
    """Give SIP extension NUMBER a new digest password; its phone registers with it from its
    next REGISTER (a registration already made stays until it expires). Audited.

    Example: appliancectl sip extensions passwd 2002 --apply
    """
    _write_password(ctx, file, apply, number, password, new=False)


@extensions_group.command("remove")
@click.argument("number")
@file_option
@apply_option
@pass_context
def remove_extension(ctx: Context, number: str, file: str | None, apply: bool) -> None:
    """Remove SIP extension NUMBER: with --apply its phone can no longer log in or call.
    Refused while an agent's device is that extension. Audited.

    Example: appliancectl sip extensions remove 2002 --apply
    """
    def change(extensions: dict[str, Any], tree: Tree) -> None:
        _known(number, extensions)
        users = [str(a.get("id")) for a in tree.get("acd", {}).get("agents", [])
                 if str(a.get("device", "")).removeprefix("sip:") == number]
        if users:
            raise CliError(f"extension {number} is the device of agent(s) {', '.join(users)}; "
                           "give them another first (appliancectl agents)", EXIT_REFUSED)
        del extensions[number]

    path, reports = _edit_extensions(ctx, file, "sip.extension.remove", number, change, apply)
    print_applied(f"extension {number}: removed from {path}", reports)
