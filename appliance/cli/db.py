"""``appliancectl db``: migrate, check, backup and restore the database (ADM-3)."""

from __future__ import annotations

import os

import click

from appliance.cli.common import (
    EXIT_REFUSED,
    CliError,
    Context,
    output_options,
    pass_context,
    print_json,
)
from appliance.store import StoreError, latest_level, open_database
from appliance.store.audit import record
from appliance.store.backup import CheckReport, backup, check, restore
from appliance.store.db import connect
from appliance.store.migrations import migrate as apply_migrations
from appliance.store.migrations import schema_level


def _database(ctx: Context, db_option: str | None) -> str:
    return db_option or ctx.config().paths.database_path


db_option = click.option(
    "--db", "db_path", metavar="FILE", help="Database file [default: from the configuration]."
)


def _report(report: CheckReport, as_json: bool) -> None:
    if as_json:
        print_json(
            {
                "path": report.path,
                "ok": report.ok,
                "integrity": report.integrity,
                "foreign_key_violations": report.foreign_keys,
                "level": report.level,
                "latest": report.latest,
            }
        )
        return
    click.echo(f"{report.path}: integrity {'ok' if report.integrity == ['ok'] else 'FAILED'}")
    for problem in report.integrity if report.integrity != ["ok"] else []:
        click.echo(f"  {problem}")
    click.echo(f"foreign-key violations: {report.foreign_keys}")
    click.echo(f"schema level {report.level} (software knows {report.latest})")


@click.group("db")
def db_group() -> None:
    """Migrate, check, back up and restore the appliance database.

    Example: appliancectl db backup /var/backups/appliance-$(date +%F).db
    """


@db_group.command()
@db_option
@output_options
@pass_context
def migrate(ctx: Context, db_path: str | None, as_json: bool) -> None:
    """Apply pending schema migrations (the daemons also do this at start).

    Example: appliancectl db migrate
    """
    path = _database(ctx, db_path)
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        conn = connect(path)
        try:
            applied = apply_migrations(conn, path)
            level = schema_level(conn)
        finally:
            conn.close()
    except StoreError as exc:
        raise CliError(str(exc), EXIT_REFUSED) from exc
    if as_json:
        print_json({"path": path, "applied": applied, "level": level})
    else:
        click.echo(
            f"{path}: applied {len(applied)} migration(s); schema level {level} of {latest_level()}"
        )


@db_group.command("check")
@db_option
@output_options
@pass_context
def check_command(ctx: Context, db_path: str | None, as_json: bool) -> None:
    """Run SQLite's integrity and foreign-key checks and print the schema level.

    Exits 4 when anything is wrong.

    Example: appliancectl db check --json
    """
    path = _database(ctx, db_path)
    try:
        report = check(path)
    except StoreError as exc:
        raise CliError(str(exc), EXIT_REFUSED) from exc
    _report(report, as_json)
    if not report.ok:
        raise SystemExit(EXIT_REFUSED)


@db_group.command("backup")
@click.argument("file", type=click.Path(dir_okay=False))
@db_option
@output_options
@pass_context
def backup_command(ctx: Context, file: str, db_path: str | None, as_json: bool) -> None:
    """Write a consistent copy of the live database to FILE (safe while daemons run).

    Example: appliancectl db backup /mnt/usb/appliance.db
    """
    path = _database(ctx, db_path)
    try:
        report = backup(path, file)
    except StoreError as exc:
        raise CliError(str(exc)) from exc
    record(open_database(path), "db.backup", target=os.path.abspath(file))
    _report(report, as_json)


@db_group.command("restore")
@click.argument("file", type=click.Path(dir_okay=False))
@db_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@output_options
@pass_context
def restore_command(ctx: Context, file: str, db_path: str | None, yes: bool, as_json: bool) -> None:
    """Replace the database with the backup FILE, all or nothing.

    Refuses a file that fails the integrity check, is not an appliance
    database or has a newer schema than this software (exit 4).

    Example: appliancectl db restore --yes /mnt/usb/appliance.db
    """
    path = _database(ctx, db_path)
    if not yes:
        click.confirm(f"Replace the content of {path} with {file}?", abort=True)
    try:
        report = restore(file, path)
    except StoreError as exc:
        if os.path.exists(path):
            record(
                open_database(path),
                "db.restore",
                target=os.path.abspath(file),
                outcome=f"refused: {exc}",
            )
        raise CliError(f"restore refused: {exc}", EXIT_REFUSED) from exc
    record(open_database(path), "db.restore", target=os.path.abspath(file))
    _report(report, as_json)
