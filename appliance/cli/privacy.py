"""``appliancectl privacy``: a customer's erasure request (SEC-3)."""

from __future__ import annotations

import click

from appliance.cli.common import (
    EXIT_REFUSED,
    EXIT_UNAVAILABLE,
    CliError,
    Context,
    daemon_call,
    output_options,
    pass_context,
    print_json,
)
from appliance.cli.rec import Store, store_options
from appliance.privacy import ErasureError, ErasurePlan, checked_number, erase, masked, plan


@click.group("privacy")
def privacy_group() -> None:
    """Customer data protection: erase a caller's number and recordings on request.

    Example: appliancectl privacy erase --caller 0612345678 --dry-run
    """


def _on_a_call(ctx: Context, number: str) -> bool:
    """True when telephonyd has a live call from or to ``number`` (not if it is down)."""
    try:
        answer = daemon_call(ctx.config().control_socket("telephonyd"), "calls.list")
    except CliError as exc:
        if exc.exit_code == EXIT_UNAVAILABLE:
            return False  # daemon stopped: nothing can write the number meanwhile
        raise
    return any(number in (c.get("caller"), c.get("callee")) for c in answer.get("calls", []))


def _print_plan(erasure: ErasurePlan, done: bool) -> None:
    verb = "erased" if done else "would erase"
    click.echo(f"{verb}: {len(erasure.call_ids)} call(s), "
               f"{len(erasure.recordings)} recording(s) deleted")
    for column, rows in sorted(erasure.columns.items()):
        click.echo(f"  {column}: {rows} row(s)")
    for holder in erasure.backups:
        found = ", ".join(f"{k} {v}" for k, v in sorted(holder.matches.items()))
        click.echo(f"still held by backup {holder.path} ({found}): re-take or destroy it")
    for holder in erasure.exports:
        click.echo(f"still held by export {holder.path} ({holder.matches['recordings']} "
                   "recording(s)): destroy it")
    if erasure.audit_rows:
        click.echo(f"kept: {erasure.audit_rows} audit log row(s) mention it (append-only record "
                   "of actions)")


@privacy_group.command("erase")
@click.option("--caller", "number", required=True, metavar="NUMBER",
              help="The customer's number, as it appears in the CDRs (5-15 digits, E.164).")
@click.option("--dry-run", is_flag=True, help="List what would go and what still holds it.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@store_options
@output_options
@pass_context
def erase_command(ctx: Context, number: str, dry_run: bool, yes: bool, db_path: str | None,
                  recordings_dir: str | None, as_json: bool) -> None:
    """Remove a caller's number from every table and delete their recordings. Audited.

    CDRs, queue_log and IVR visits keep their rows (statistics stay right) with the
    number replaced by [erased]; backups and exports that still hold it are listed.

    Example: appliancectl privacy erase --caller 0612345678 --yes
    """
    try:
        checked_number(number)
    except ErasureError as exc:
        raise CliError(str(exc), EXIT_REFUSED) from exc
    store = Store(ctx, db_path, recordings_dir)
    erasure = plan(store.conn, store.index, number, store.db_path)
    if dry_run:
        if as_json:
            print_json({**erasure.as_dict(), "number": masked(number), "dry_run": True})
        else:
            _print_plan(erasure, done=False)
        return
    if db_path is None and _on_a_call(ctx, number):
        store.audit("privacy.erase", masked(number), outcome="refused: call in progress")
        raise CliError(f"a call from or to {number} is in progress; erase after it ends",
                       EXIT_REFUSED)
    if not yes:
        click.confirm(f"Erase {number} from {len(erasure.call_ids)} call(s) and delete "
                      f"{len(erasure.recordings)} recording(s) for good?", abort=True)
    try:
        changed = erase(store.conn, store.index, store.root, erasure)
    except ErasureError as exc:
        store.audit("privacy.erase", masked(number), outcome=f"refused: {exc}")
        raise CliError(str(exc), EXIT_REFUSED) from exc
    summary = {**erasure.as_dict(), "number": masked(number), "rows": changed}
    store.audit("privacy.erase", masked(number), **{k: v for k, v in summary.items()
                                                    if k != "number"})
    if as_json:
        print_json(summary)
    else:
        erasure.columns = changed
        _print_plan(erasure, done=True)
