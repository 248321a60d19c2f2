"""``appliancectl users``: operator accounts and roles (ADM-2, SEC-1, SEC-2).

There is no default account or password: create the first admin with
``appliancectl users add NAME --role admin``. Every change is audited.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable

import click

from appliance.auth import ROLES, AuthError, User, UserStore
from appliance.auth.roles import PERMISSIONS
from appliance.cli.audit import audit_change, open_store
from appliance.cli.common import (
    EXIT_REFUSED,
    CliError,
    Context,
    output_options,
    pass_context,
    print_json,
    print_table,
)


def _when(epoch: float | None) -> str:
    return dt.datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M") if epoch else "-"


def _change(ctx: Context, action: str, name: str, change: Callable[[UserStore], User],
            detail: dict[str, str] | None = None) -> User:
    store = UserStore(open_store(ctx))

    def run() -> User:
        try:
            return change(store)
        except AuthError as exc:
            raise CliError(str(exc), EXIT_REFUSED) from exc

    return audit_change(ctx, action, name, run, detail=detail)


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


def _show(user: User, as_json: bool, message: str) -> None:
    if as_json:
        print_json(user.as_dict())
    else:
        click.echo(message)


password_stdin_option = click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)


@click.group("users")
def users_group() -> None:
    """Operator accounts: roles, passwords, grants, revocation.

    Example: appliancectl users add alice --role admin
    """


@users_group.command("list")
@output_options
@pass_context
def list_users(ctx: Context, as_json: bool) -> None:
    """List every account, active or disabled.

    Example: appliancectl users list --json
    """
    users = UserStore(open_store(ctx)).list()
    if as_json:
        print_json({"users": [u.as_dict() for u in users]})
        return
    print_table(
        [{"name": u.name, "role": u.role,
          "active": ("yes" if u.active else "DISABLED") + (
              f", LOCKED until {_when(u.locked_until)}"
              if u.locked_until and u.locked_until > time.time() else ""),
          "grants": ",".join(u.grants) or "-", "last_login": _when(u.last_login)} for u in users],
        ["name", "role", "active", "grants", "last_login"],
    )


@users_group.command("show")
@click.argument("name")
@output_options
@pass_context
def show_user(ctx: Context, name: str, as_json: bool) -> None:
    """Show one account and every permission it holds.

    Example: appliancectl users show alice
    """
    try:
        user = UserStore(open_store(ctx)).get(name)
    except AuthError as exc:
        raise CliError(str(exc)) from exc
    if as_json:
        print_json({**user.as_dict(), "permissions": sorted(user.permissions)})
        return
    click.echo(f"{user.name}  role {user.role}  {'active' if user.active else 'DISABLED'}")
    click.echo(f"created {_when(user.created_at)}  last login {_when(user.last_login)}")
    click.echo("permissions " + " ".join(sorted(user.permissions)))


@users_group.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLES), help="Layer of permissions.")
@password_stdin_option
@output_options
@pass_context
def add_user(ctx: Context, name: str, role: str, password_stdin: bool, as_json: bool) -> None:
    """Create account NAME with ROLE; the password is asked for (at least 10 characters).

    Example: echo 'long secret phrase' | appliancectl users add alice --role admin --password-stdin
    """
    password = _read_password(password_stdin)
    user = _change(ctx, "user.add", name, lambda s: s.add(name, role, password), {"role": role})
    _show(user, as_json, f"{name}: created with role {role}")


@users_group.command("passwd")
@click.argument("name")
@password_stdin_option
@output_options
@pass_context
def passwd(ctx: Context, name: str, password_stdin: bool, as_json: bool) -> None:
    """Set a new password for NAME.

    Example: appliancectl users passwd alice
    """
    password = _read_password(password_stdin)
    user = _change(ctx, "user.passwd", name, lambda s: s.set_password(name, password))
    _show(user, as_json, f"{name}: password changed")


@users_group.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
@output_options
@pass_context
def set_role(ctx: Context, name: str, role: str, as_json: bool) -> None:
    """Give NAME another role.

    Example: appliancectl users role bob supervisor
    """
    user = _change(ctx, "user.role", name, lambda s: s.set_role(name, role), {"role": role})
    _show(user, as_json, f"{name}: role {role}")


@users_group.command("disable")
@click.argument("name")
@output_options
@pass_context
def disable(ctx: Context, name: str, as_json: bool) -> None:
    """Revoke NAME's access at once (the account stays for the audit trail).

    Example: appliancectl users disable bob
    """
    user = _change(ctx, "user.disable", name, lambda s: s.disable(name))
    _show(user, as_json, f"{name}: disabled")


@users_group.command("enable")
@click.argument("name")
@output_options
@pass_context
def enable(ctx: Context, name: str, as_json: bool) -> None:
    """Restore a disabled account.

    Example: appliancectl users enable bob
    """
    user = _change(ctx, "user.enable", name, lambda s: s.enable(name))
    _show(user, as_json, f"{name}: enabled")


@users_group.command("unlock")
@click.argument("name")
@output_options
@pass_context
def unlock(ctx: Context, name: str, as_json: bool) -> None:
    """Unlock NAME after too many wrong passwords, before the lockout runs out.

    Example: appliancectl users unlock bob
    """
    user = _change(ctx, "user.unlock", name, lambda s: s.unlock(name))
    _show(user, as_json, f"{name}: unlocked")


@users_group.command("grant")
@click.argument("name")
@click.argument("permission", type=click.Choice(sorted(PERMISSIONS)))
@output_options
@pass_context
def grant(ctx: Context, name: str, permission: str, as_json: bool) -> None:
    """Grant one PERMISSION on top of NAME's role (e.g. customer.read to an engineer).

    Example: appliancectl users grant carol customer.read
    """
    user = _change(ctx, "user.grant", name, lambda s: s.grant(name, permission),
                   {"permission": permission})
    _show(user, as_json, f"{name}: granted {permission}")


@users_group.command("revoke")
@click.argument("name")
@click.argument("permission", type=click.Choice(sorted(PERMISSIONS)))
@output_options
@pass_context
def revoke(ctx: Context, name: str, permission: str, as_json: bool) -> None:
    """Take back a PERMISSION granted to NAME.

    Example: appliancectl users revoke carol customer.read
    """
    user = _change(ctx, "user.revoke", name, lambda s: s.revoke(name, permission),
                   {"permission": permission})
    _show(user, as_json, f"{name}: revoked {permission}")
