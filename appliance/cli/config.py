"""``appliancectl config``: validate, show, diff and apply the configuration file."""

from __future__ import annotations

import os
from typing import Any

import click

from appliance.cli.audit import audit_change
from appliance.cli.common import (
    EXIT_REFUSED,
    CliError,
    Context,
    daemon_call,
    output_options,
    pass_context,
    print_json,
)
from appliance.cli.status import DAEMONS
from appliance.config import ConfigErrors, load_config
from appliance.config.render import render_toml
from appliance.config.validate import to_plain
from appliance.runtime.service import DaemonName


@click.group("config")
def config_group() -> None:
    """Validate, show, compare and apply the configuration.

    Example: appliancectl config validate /etc/appliance/appliance.toml
    """


@config_group.command()
@click.argument("file", type=click.Path(dir_okay=False))
@output_options
def validate(file: str, as_json: bool) -> None:
    """Check FILE and report every error as FILE:LINE: key.path: message.

    Exits 4 when the file has errors.

    Example: appliancectl config validate new.toml
    """
    try:
        load_config(file)
    except ConfigErrors as exc:
        if as_json:
            print_json({"file": file, "valid": False, "errors": [e.as_dict() for e in exc.errors]})
        else:
            for error in exc.errors:
                click.echo(str(error), err=True)
            click.echo(f"{file}: {len(exc.errors)} error(s)", err=True)
        raise SystemExit(EXIT_REFUSED) from exc
    if as_json:
        print_json({"file": file, "valid": True, "errors": []})
    else:
        click.echo(f"{file}: valid")


@config_group.command()
@output_options
@pass_context
def show(ctx: Context, as_json: bool) -> None:
    """Print the effective configuration, defaults filled in (TOML, or JSON).

    Example: appliancectl --config /etc/appliance/appliance.toml config show
    """
    tree = to_plain(ctx.config())
    if as_json:
        print_json(tree)
    else:
        click.echo(f"# effective configuration of {ctx.config_path}")
        click.echo(render_toml(tree), nl=False)


def _flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(tree, dict):
        out: dict[str, Any] = {}
        for key, value in tree.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else key))
        return out
    if isinstance(tree, list) and tree and all(isinstance(v, dict) for v in tree):
        out = {}
        for index, value in enumerate(tree):
            out.update(_flatten(value, f"{prefix}[{index}]"))
        return out
    return {prefix: tree}


@config_group.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--daemon", type=click.Choice(DAEMONS), default="telephonyd", show_default=True)
@output_options
@pass_context
def diff(ctx: Context, file: str, daemon: DaemonName, as_json: bool) -> None:
    """Compare FILE with the configuration the daemon is running.

    Example: appliancectl config diff new.toml
    """
    try:
        new = _flatten(to_plain(load_config(file)))
    except ConfigErrors as exc:
        raise CliError(f"{file} is invalid:\n{exc}", EXIT_REFUSED) from exc
    running = _flatten(daemon_call(ctx.config().control_socket(daemon), "config.show"))
    changes = [
        {"key": key, "running": running.get(key), "file": new.get(key)}
        for key in sorted(set(running) | set(new))
        if running.get(key) != new.get(key)
    ]
    if as_json:
        print_json({"changes": changes})
        return
    if not changes:
        click.echo("no differences")
    for change in changes:
        click.echo(f"- {change['key']} = {change['running']!r}")
        click.echo(f"+ {change['key']} = {change['file']!r}")


@config_group.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True,
              help="Apply even a file with no spans and no ports (takes every line down).")
@output_options
@pass_context
def apply(ctx: Context, file: str, force: bool, as_json: bool) -> None:
    """Validate FILE and make both daemons take it; a refused file changes nothing.

    Each daemon says which changed settings took effect now and which wait for
    its restart. The daemons read FILE themselves; install it at the configured
    path for it to survive a restart.

    Example: appliancectl config apply /etc/appliance/appliance.toml
    """
    path = os.path.abspath(file)
    config = ctx.config()

    def apply_to_both() -> dict[str, Any]:
        try:
            load_config(path)
        except ConfigErrors as exc:
            raise CliError(
                f"{path}: refused, running configuration kept:\n{exc}", EXIT_REFUSED
            ) from exc
        results: dict[str, Any] = {}
        for daemon in DAEMONS:
            try:
                results[daemon] = daemon_call(config.control_socket(daemon), "config.apply",
                                              path=path, force=force)
            except CliError as exc:
                raise CliError(f"refused by {daemon}: {exc.message}", exc.exit_code) from exc
        return results

    results = audit_change(ctx, "config.apply", path, apply_to_both, detail={"force": force})
    if as_json:
        print_json({"file": path, "daemons": results})
        return
    for daemon, report in results.items():
        click.echo(describe_reload(daemon, report))


def describe_reload(daemon: str, report: dict[str, Any]) -> str:
    """``telephonyd: applied rig.spans; takes effect after a restart ...: acd.queues``."""
    applied = ", ".join(str(k) for k in report.get("applied") or []) or "nothing it reads changed"
    waiting = ", ".join(str(k) for k in report.get("restart_required") or [])
    line = f"{daemon}: applied {applied}"
    if waiting:
        line += f"; takes effect after a restart of {daemon}: {waiting}"
    return line
