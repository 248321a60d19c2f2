"""``appliancectl agent ...`` and ``appliancectl queues``: calls to telephonyd's control socket."""

from __future__ import annotations

from typing import Any

import click

from appliance.cli.common import (
    Context,
    daemon_call,
    output_options,
    pass_context,
    print_json,
    print_table,
)


def _call(ctx: Context, method: str, **params: Any) -> Any:
    return daemon_call(ctx.config().control_socket("telephonyd"), method, **params)


@click.group("agent")
def agent_group() -> None:
    """Log agents in and out, pause and resume them, list their states.

    Example: appliancectl agent pause 1001 --reason lunch
    """


@agent_group.command("login")
@click.argument("agent")
@click.option(
    "--device", default="", help="Phone to ring (default: the agent's configured device)."
)
@pass_context
def login(ctx: Context, agent: str, device: str) -> None:
    """Log AGENT in so that queues ring them.

    Example: appliancectl agent login 1001 --device fxs3
    """
    _call(ctx, "agent.login", agent=agent, device=device)
    click.echo(f"agent {agent} logged in")


@agent_group.command("logout")
@click.argument("agent")
@pass_context
def logout(ctx: Context, agent: str) -> None:
    """Log AGENT out.

    Example: appliancectl agent logout 1001
    """
    _call(ctx, "agent.logout", agent=agent)
    click.echo(f"agent {agent} logged out")


@agent_group.command("pause")
@click.argument("agent")
@click.option("--reason", required=True, help="One of [acd].pause_reasons, e.g. break, lunch.")
@pass_context
def pause(ctx: Context, agent: str, reason: str) -> None:
    """Pause AGENT with a reason (taken after the current call, if any).

    Example: appliancectl agent pause 1001 --reason lunch
    """
    _call(ctx, "agent.pause", agent=agent, reason=reason)
    click.echo(f"agent {agent} paused ({reason})")


@agent_group.command("unpause")
@click.argument("agent")
@pass_context
def unpause(ctx: Context, agent: str) -> None:
    """Make AGENT available again.

    Example: appliancectl agent unpause 1001
    """
    _call(ctx, "agent.unpause", agent=agent)
    click.echo(f"agent {agent} available")


@agent_group.command("list")
@output_options
@pass_context
def list_agents(ctx: Context, as_json: bool) -> None:
    """Every agent's state and time in state (MON-3).

    Example: appliancectl agent list --json
    """
    rows = _call(ctx, "acd.agents")
    if as_json:
        print_json(rows)
        return
    for row in rows:
        row["in_state"] = f"{row['in_state']:.0f}s"
        row["queues"] = ",".join(row["queues"])
    print_table(rows, ["agent", "name", "state", "reason", "in_state", "device", "queues"])


@click.command("queues")
@output_options
@pass_context
def queues(ctx: Context, as_json: bool) -> None:
    """Calls waiting, longest wait and agents per queue (MON-2).

    Example: appliancectl queues --json
    """
    rows = _call(ctx, "acd.queues")
    if as_json:
        print_json(rows)
        return
    for row in rows:
        row["longest_wait"] = f"{row['longest_wait']:.0f}s"
    print_table(
        rows,
        [
            "queue",
            "strategy",
            "waiting",
            "longest_wait",
            "agents_idle",
            "agents_busy",
            "agents_paused",
            "agents_logged_in",
        ],
    )
