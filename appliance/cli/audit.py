"""``appliancectl audit``: read the audit log; and the helpers that write it for every change.

Every command that changes something goes through :func:`audited_call` (a
daemon method) or :func:`audit_change` (a local change), so its outcome,
accepted or refused, lands in ``audit_log`` (ADM-2). The daemons audit every
state-changing socket request themselves with the caller's SO_PEERCRED
identity (appliance/auth/guard.py); the CLI's own row names the real uid's
user (``pwd``), never ``$USER``. A user who may not write the database (a
member of the appliance group: 0640) still reaches the daemons, which audit.

``appliancectl audit verify`` walks the hash chain (appliance/store/audit.py).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from collections.abc import Callable
from typing import Any, Literal, TypeVar

import click
import sqlite_utils

from appliance.cli.common import (
    EXIT_FAILED,
    EXIT_REFUSED,
    CliError,
    Context,
    daemon_call,
    echo_err,
    output_options,
    pass_context,
    print_json,
    print_table,
)
from appliance.store import StoreError, open_database
from appliance.store.audit import record, verify

Daemon = Literal["telephonyd", "powerd"]
T = TypeVar("T")


def open_store(ctx: Context) -> sqlite_utils.Database:
    path = ctx.config().paths.database_path
    try:
        return open_database(path)
    except StoreError as exc:
        raise CliError(f"database refused: {exc}", EXIT_REFUSED) from exc


def default_timeout() -> float:
    """Seconds to wait for a daemon: ``APPLIANCECTL_TIMEOUT``, else 5."""
    text = os.environ.get("APPLIANCECTL_TIMEOUT", "")
    try:
        return float(text) if text else 5.0
    except ValueError as exc:
        raise CliError(f"APPLIANCECTL_TIMEOUT={text!r} is not a number of seconds", 2) from exc


def query(
    ctx: Context, daemon: Daemon, method: str, timeout: float | None = None, **params: Any
) -> Any:
    """A read-only daemon call (nothing is audited)."""
    return daemon_call(
        ctx.config().control_socket(daemon), method,
        default_timeout() if timeout is None else timeout, **params,
    )


def audit_change(
    ctx: Context,
    action: str,
    target: str,
    change: Callable[[], T],
    detail: dict[str, Any] | None = None,
) -> T:
    """Run ``change`` and write its outcome, ``ok`` or ``refused: <why>``, to the audit log."""
    db = _writable_store(ctx)
    try:
        result = change()
    except CliError as exc:
        _record_local(db, action, target, f"refused: {exc.message}", detail)
        raise
    _record_local(db, action, target, "ok", detail)
    return result


def _writable_store(ctx: Context) -> sqlite_utils.Database | None:
    """The database if this user may write it; None for a group member (file 0640, folder
    0750: the daemon then audits the request under the caller's identity)."""
    path = ctx.config().paths.database_path
    if os.path.exists(path) and not os.access(path, os.W_OK):
        return None
    try:
        return open_store(ctx)
    except PermissionError:  # the state folder is closed to this user
        return None
    except (CliError, OSError) as exc:
        echo_err(f"warning: no local audit row: {getattr(exc, 'message', exc)}")
        return None


def _record_local(db: sqlite_utils.Database | None, action: str, target: str, outcome: str,
                  detail: dict[str, Any] | None) -> None:
    if db is None:
        return  # the daemon audits the request with the caller's real identity
    try:
        record(db, action, target=target, outcome=outcome, detail=detail)
    except sqlite3.Error as exc:
        echo_err(f"warning: audit row not written locally ({exc}); the daemon audits it")


def audited_call(
    ctx: Context, daemon: Daemon, method: str, action: str, target: str, /,
    timeout: float | None = None, **params: Any,
) -> Any:
    """A daemon call that changes something, written to the audit log with its outcome
    (``target`` names what it acts on in the log; a request parameter may be called
    ``target`` too)."""
    return audit_change(
        ctx, action, target, lambda: query(ctx, daemon, method, timeout, **params), detail=params
    )


def _parse_since(text: str | None) -> float | None:
    if not text:
        return None
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if text[-1:] in units and text[:-1].isdigit():
        return dt.datetime.now(dt.UTC).timestamp() - int(text[:-1]) * units[text[-1]]
    try:
        return dt.datetime.fromisoformat(text).timestamp()
    except ValueError as exc:
        raise click.BadParameter(
            f"{text!r}: give an age (30m, 12h, 7d) or an ISO date (2026-11-23T08:00)",
            param_hint="--since",
        ) from exc


@click.group("audit", invoke_without_command=True)
@click.option("--since", metavar="AGE|DATE", help="Only entries newer than 12h, 7d or an ISO date.")
@click.option("--actor", help="Only entries made by this user.")
@click.option("--action", "action_prefix", help="Only actions starting with this (e.g. 'agent.').")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100000))
@output_options
@pass_context
def audit(
    ctx: Context, since: str | None, actor: str | None, action_prefix: str | None, limit: int,
    as_json: bool,
) -> None:
    """Show the audit log: who changed what, from where, and whether it was refused.

    Newest entries last. `appliancectl audit verify` checks the hash chain.

    Example: appliancectl audit --since 24h --action user.
    """
    if click.get_current_context().invoked_subcommand is not None:
        return
    where = ["1 = 1"]
    args: list[Any] = []
    start = _parse_since(since)
    if start is not None:
        where.append("at >= ?")
        args.append(start)
    if actor:
        where.append("actor = ?")
        args.append(actor)
    if action_prefix:
        where.append("action LIKE ? ESCAPE '\\'")
        args.append(action_prefix.replace("%", "\\%").replace("_", "\\_") + "%")
    db = open_store(ctx)
    rows = list(db.query(
        f"SELECT * FROM (SELECT * FROM audit_log WHERE {' AND '.join(where)} "
        "ORDER BY id DESC LIMIT ?) ORDER BY id",
        [*args, limit],
    ))
    for row in rows:
        row["detail"] = json.loads(row["detail"] or "{}")
    if as_json:
        print_json({"entries": rows})
        return
    table = [
        {
            **row,
            "at": dt.datetime.fromtimestamp(row["at"]).strftime("%Y-%m-%d %H:%M:%S"),
            "detail": json.dumps(row["detail"], separators=(",", ":")) if row["detail"] else "",
        }
        for row in rows
    ]
    print_table(table, ["at", "actor", "origin", "action", "target", "outcome", "detail"])


@audit.command("verify")
@output_options
@pass_context
def audit_verify(ctx: Context, as_json: bool) -> None:
    """Check the audit log's hash chain; name the first row that breaks it (exit 1).

    Prints the head hash: note it somewhere else to detect a truncated tail later.

    Example: appliancectl audit verify
    """
    db = open_store(ctx)
    verdict = verify(db.conn)
    if as_json:
        print_json(verdict.as_dict())
    elif verdict.ok:
        legacy = f"; {verdict.legacy} older row(s) predate the chain" if verdict.legacy else ""
        click.echo(f"audit log intact: {verdict.chained} row(s) chained{legacy}; "
                   f"head {verdict.head or '-'}")
    if not verdict.ok:
        row = next(iter(db.query("SELECT * FROM audit_log WHERE id = ?", [verdict.broken_id])))
        shown = {k: row[k] for k in ("id", "at", "actor", "origin", "action", "target",
                                     "outcome")}
        raise CliError(f"audit log broken at row {verdict.broken_id}: {verdict.reason}\n"
                       f"  {json.dumps(shown)}\n"
                       f"  {verdict.chained} row(s) before it are intact", EXIT_FAILED)
