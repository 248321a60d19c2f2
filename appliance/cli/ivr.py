"""``appliancectl ivr``: check and show the IVR flows of the configuration (ADM-1).

The flows live in the ``[ivr]`` table of the configuration file and are
checked by the same schema (appliance.config.sections.ivr) and graph checks
(appliance.ivr.validate) the daemon runs.
"""

from __future__ import annotations

import tomllib
from typing import Any

import click

from appliance.cli.audit import query
from appliance.cli.common import (
    EXIT_REFUSED,
    CliError,
    Context,
    output_options,
    pass_context,
    print_json,
)
from appliance.config.locate import LineLocator
from appliance.config.render import render_toml
from appliance.config.sections.ivr import IvrSection
from appliance.config.validate import Problem, build
from appliance.ivr.validate import validate_ivr


@click.group("ivr")
def ivr_group() -> None:
    """IVR flows: validate a file, show what the daemon runs.

    Example: appliancectl ivr validate /etc/appliance/appliance.toml
    """


@ivr_group.command("validate")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@output_options
def validate(file: str, as_json: bool) -> None:
    """Check the [ivr] table of FILE: every field, then the flows as graphs.

    Graph checks: unreachable nodes, loops with no exit, unknown queues (from
    the file's [acd] table), undefined flows in routes. Exits 4 with every
    error as FILE:LINE: key: message.

    Example: appliancectl ivr validate new.toml
    """
    with open(file, encoding="utf-8") as handle:
        text = handle.read()
    try:
        tree = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CliError(f"{file}: not TOML: {exc}", EXIT_REFUSED) from exc
    locator = LineLocator(text)
    errors: list[dict[str, Any]] = []
    if not isinstance(tree.get("ivr"), dict):
        errors.append({"file": file, "line": 1, "key": "ivr", "message": "no [ivr] table"})
    else:
        problems: list[Problem] = []
        section = build(IvrSection, tree["ivr"], ("ivr",), problems)
        errors += [
            {"file": file, "line": locator.line_of(p.path), "key": ".".join(map(str, p.path)),
             "message": p.message}
            for p in problems
        ]
        if not problems:
            acd = tree.get("acd", {})
            queues = [q.get("name") for q in acd.get("queues", [])] if isinstance(acd, dict) else []
            line = locator.line_of(("ivr",))
            errors += [{"file": file, "line": line, "key": "ivr", "message": m}
                       for m in validate_ivr(section, [str(q) for q in queues])]
    if as_json:
        print_json({"file": file, "valid": not errors, "errors": errors})
    else:
        for error in errors:
            where = f"{error['file']}:{error['line']}: {error['key']}"
            click.echo(f"{where}: {error['message']}", err=True)
        click.echo(f"{file}: {'valid' if not errors else f'{len(errors)} error(s)'}",
                   err=bool(errors))
    if errors:
        raise SystemExit(EXIT_REFUSED)


@ivr_group.command("show")
@output_options
@pass_context
def show(ctx: Context, as_json: bool) -> None:
    """Show the IVR flows telephonyd is running.

    Example: appliancectl ivr show --json
    """
    running = query(ctx, "telephonyd", "config.show")
    if not isinstance(running, dict) or "ivr" not in running:
        raise CliError("telephonyd runs no [ivr] table (no IVR flows configured)")
    if as_json:
        print_json(running["ivr"])
    else:
        click.echo(render_toml({"ivr": running["ivr"]}), nl=False)
