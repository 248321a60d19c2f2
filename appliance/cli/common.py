"""Options, output and errors shared by every appliancectl command.

Exit codes (documented in ``appliancectl --help`` and docs/cli.md):
0 success; 1 the operation failed; 2 bad usage or invalid input (Click's own);
3 a daemon is not running or did not answer; 4 refused (validation, integrity).
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from appliance.config import ApplianceConfig, ConfigErrors, config_path_from, load_config
from appliance.runtime.control import ControlError, call_once

EXIT_FAILED = 1
EXIT_UNAVAILABLE = 3
EXIT_REFUSED = 4

F = TypeVar("F", bound=Callable[..., Any])


class CliError(click.ClickException):
    """A clear one-line error with a documented exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click declares a class default


@dataclass
class Context:
    config_option: str | None

    @property
    def config_path(self) -> str:
        return config_path_from(self.config_option)

    def config(self) -> ApplianceConfig:
        try:
            return load_config(self.config_path)
        except ConfigErrors as exc:
            raise CliError(f"configuration refused:\n{exc}", EXIT_REFUSED) from exc


pass_context = click.make_pass_decorator(Context)


def output_options(func: F) -> F:
    """``--json`` (and ``--csv`` where tables are printed) for every command that shows data."""
    func = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(func)
    return func


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def print_table(rows: Sequence[dict[str, Any]], columns: Sequence[str], fmt: str = "table") -> None:
    """Rows as an aligned text table (or CSV)."""
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        click.echo(buffer.getvalue(), nl=False)
        return
    cells = [[str(r.get(c, "")) for c in columns] for r in rows]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]
    click.echo("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for row in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def daemon_call(socket_path: str, method: str, /, timeout: float = 5.0, **params: Any) -> Any:
    """One control-socket call; unreachable or full daemons become exit code 3, refusals and
    requests the caller's account may not make (``forbidden``) 4."""
    try:
        return asyncio.run(call_once(socket_path, method, timeout, **params))
    except ControlError as exc:
        if exc.code in ("unavailable", "timeout", "busy"):
            raise CliError(exc.message, EXIT_UNAVAILABLE) from exc
        details = "".join(
            f"\n{e['file']}:{e['line']}: {e['key']}: {e['message']}"
            if e.get("key")
            else f"\n{e['file']}:{e['line']}: {e['message']}"
            for e in exc.data.get("errors", [])
        )
        code = (EXIT_REFUSED if exc.code in ("config-invalid", "refused", "forbidden")
                else EXIT_FAILED)
        raise CliError(f"{exc.message}{details}", code) from exc


def echo_err(message: str) -> None:
    click.echo(message, file=sys.stderr)
