"""Edits of the configuration file by ``appliancectl`` commands (ADM-1): checked, audited,
atomic, and applied to the daemons on request (``--apply``)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from typing import Any

import click

from appliance.cli.audit import audit_change
from appliance.cli.common import EXIT_REFUSED, CliError, Context, daemon_call
from appliance.cli.config import describe_reload
from appliance.config import ConfigErrors, load_config_text
from appliance.config.load import parse_toml, read_config_file
from appliance.config.render import render_toml
from appliance.config.validate import Problem

Tree = dict[str, Any]


def _problems(text: str, path: str) -> str:
    """Why ``text`` is not a valid configuration ('' if it is)."""
    try:
        load_config_text(text, path)
    except ConfigErrors as exc:
        return str(exc)
    return ""


def edit_config(
    ctx: Context, file: str | None, action: str, target: str, change: Callable[[Tree], None],
    check: Callable[[Tree], list[Problem]], apply: bool, detail: dict[str, Any],
) -> tuple[str, dict[str, Any]]:
    """Change the configuration file's tree with ``change``, checked and audited.

    The file is parsed, changed, checked (``check``: the section's own field and
    cross-reference checks, named where they are; and an edit never turns a valid file
    invalid), kept as FILE.bak and replaced atomically. Comments in the file are not
    kept. With ``apply`` both daemons then take the file (``config.apply``); their
    reports (what took effect, what waits for a restart) are returned with the path.
    ``detail`` goes into the audit log: never put a secret in it.
    """
    path = os.path.abspath(file or ctx.config_path)

    def run() -> str:
        try:
            before = read_config_file(path).decode("utf-8")
            tree = parse_toml(before, path)
        except UnicodeDecodeError as exc:
            raise CliError(f"{path}: not UTF-8 text", EXIT_REFUSED) from exc
        except ConfigErrors as exc:
            raise CliError(f"refused, {path} unchanged:\n{exc}", EXIT_REFUSED) from exc
        change(tree)
        problems = check(tree)
        if problems:
            text = "\n".join(f"{'.'.join(map(str, p.path))}: {p.message}" for p in problems)
            raise CliError(f"refused, {path} unchanged:\n{text}", EXIT_REFUSED)
        after = render_toml(tree)
        if not _problems(before, path) and (why := _problems(after, path)):
            raise CliError(f"refused, {path} unchanged: the change would make it invalid:\n"
                           f"{why}", EXIT_REFUSED)
        shutil.copy2(path, path + ".bak")
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".appliance-", suffix=".toml")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(after)
        os.chmod(tmp, os.stat(path).st_mode & 0o777)
        os.replace(tmp, path)
        if apply:
            config = ctx.config()
            for daemon in ("telephonyd", "powerd"):
                reports[daemon] = daemon_call(config.control_socket(daemon), "config.apply",
                                              path=path)
        return path

    reports: dict[str, Any] = {}
    audit_change(ctx, action, target, run, detail={**detail, "file": path})
    return path, reports


def print_applied(done: str, reports: dict[str, Any]) -> None:
    """What an edit did to the file, then per daemon what took effect and what waits."""
    click.echo(done)
    for daemon, report in reports.items():
        click.echo(describe_reload(daemon, report))


file_option = click.option("--file", "file", metavar="FILE", type=click.Path(dir_okay=False),
                           help="Configuration file to change [default: the --config file].")
apply_option = click.option("--apply", is_flag=True,
                            help="Make both daemons take the changed file at once.")
