"""``appliancectl queues``: waiting calls, longest wait and agents per queue (MON-2)."""

from __future__ import annotations

from collections.abc import Callable
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
    print_table,
)
from appliance.cli.edit import apply_option, edit_config, file_option, print_applied
from appliance.config.sections.acd import STRATEGIES, AcdSection, check_acd
from appliance.config.validate import Problem, build

COLUMNS = ["name", "strategy", "waiting", "longest_wait", "answered", "abandoned",
           "agents_idle", "agents_busy", "agents_paused"]


def wait_text(seconds: Any) -> str:
    s = int(float(seconds or 0))
    return f"{s // 60}:{s % 60:02d}"


def edit_acd(
    ctx: Context, file: str | None, action: str, target: str,
    change: Callable[[dict[str, Any]], None], apply: bool, detail: dict[str, Any],
) -> tuple[str, dict[str, Any]]:
    """Change the ``[acd]`` table of the configuration file (:func:`edit_config`), checked
    by the [acd] schema and its cross-references."""
    def change_tree(tree: dict[str, Any]) -> None:
        acd = tree.setdefault("acd", {})
        acd.setdefault("queues", [])
        acd.setdefault("agents", [])
        change(acd)

    def check(tree: dict[str, Any]) -> list[Problem]:
        problems: list[Problem] = []
        section = build(AcdSection, tree["acd"], ("acd",), problems)
        return problems + check_acd(section)

    return edit_config(ctx, file, action, target, change_tree, check, apply, detail)


@click.group("queues")
def queues_group() -> None:
    """Queues: calls waiting, longest wait, answered, abandoned, agents.

    Example: appliancectl queues list
    """


@queues_group.command("list")
@output_options
@pass_context
def list_queues(ctx: Context, as_json: bool) -> None:
    """List every queue with its live figures.

    Example: appliancectl queues list --json
    """
    result = query(ctx, "telephonyd", "queues.list")
    if as_json:
        print_json(result)
        return
    print_table(
        [{**q, "longest_wait": wait_text(q.get("longest_wait"))} for q in result["queues"]],
        COLUMNS,
    )


@queues_group.command("show")
@click.argument("queue")
@output_options
@pass_context
def show_queue(ctx: Context, queue: str, as_json: bool) -> None:
    """Show one queue and the agents that serve it.

    Example: appliancectl queues show sales
    """
    queues = query(ctx, "telephonyd", "queues.list")["queues"]
    found = next((q for q in queues if q["name"] == queue), None)
    if found is None:
        known = ", ".join(q["name"] for q in queues) or "none"
        raise CliError(f"no queue {queue!r}; known: {known}")
    agents = [a for a in query(ctx, "telephonyd", "agents.list")["agents"]
              if queue in a.get("queues", [])]
    if as_json:
        print_json({**found, "agents": agents})
        return
    for key in COLUMNS:
        value = wait_text(found.get(key)) if key == "longest_wait" else found.get(key, "-")
        click.echo(f"{key:<14} {value}")
    click.echo("")
    print_table([{**a, "reason": a.get("reason") or "-"} for a in agents],
                ["name", "state", "reason", "device"])


@queues_group.command("add")
@click.argument("queue")
@click.option("--strategy", type=click.Choice(STRATEGIES), default="rrmemory", show_default=True)
@click.option("--member", "members", multiple=True, metavar="AGENT_ID",
              help="Agent id serving the queue (repeat, in order).")
@file_option
@apply_option
@output_options
@pass_context
def add_queue(ctx: Context, queue: str, strategy: str, members: tuple[str, ...],
              file: str | None, apply: bool, as_json: bool) -> None:
    """Add QUEUE to the [acd] configuration (other settings take their defaults).

    Example: appliancectl queues add sales --strategy leastrecent --member 1001 --apply
    """
    def change(acd: dict[str, Any]) -> None:
        if any(q.get("name") == queue for q in acd["queues"]):
            raise CliError(f"queue {queue!r} already exists", EXIT_REFUSED)
        acd["queues"].append({"name": queue, "strategy": strategy, "members": list(members)})

    path, reports = edit_acd(ctx, file, "queue.add", queue, change, apply,
                             {"strategy": strategy, "members": list(members)})
    if as_json:
        print_json({"added": queue, "file": path, "daemons": reports})
    else:
        print_applied(f"{queue}: added to {path}", reports)


@queues_group.command("remove")
@click.argument("queue")
@file_option
@apply_option
@output_options
@pass_context
def remove_queue(ctx: Context, queue: str, file: str | None, apply: bool, as_json: bool) -> None:
    """Remove QUEUE from the [acd] configuration (refused while another queue overflows to it).

    Example: appliancectl queues remove sales --apply
    """
    def change(acd: dict[str, Any]) -> None:
        names = [q.get("name") for q in acd["queues"]]
        if queue not in names:
            known = ", ".join(map(str, names)) or "none"
            raise CliError(f"no queue {queue!r} in the file; known: {known}")
        acd["queues"] = [q for q in acd["queues"] if q.get("name") != queue]

    path, reports = edit_acd(ctx, file, "queue.remove", queue, change, apply, {})
    if as_json:
        print_json({"removed": queue, "file": path, "daemons": reports})
    else:
        print_applied(f"{queue}: removed from {path}", reports)
