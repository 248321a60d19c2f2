"""``appliancectl agents``: agent state, login, logout and pause (MON-3, ADM-1)."""

from __future__ import annotations

import time
from typing import Any

import click

from appliance.cli.audit import audited_call, query
from appliance.cli.common import (
    EXIT_REFUSED,
    CliError,
    Context,
    output_options,
    pass_context,
    print_json,
    print_table,
)
from appliance.cli.edit import apply_option, file_option, print_applied
from appliance.cli.queues import edit_acd

COLUMNS = ["agent", "name", "state", "in_state", "pause", "device", "queues"]


def pause_text(agent: dict[str, Any]) -> str:
    """The pause column: the reason, or ``pending: REASON`` for a pause asked during a call."""
    if agent.get("pending_pause"):
        return f"pending: {agent['pending_pause']}"
    return str(agent.get("reason") or "-")


def agent_row(agent: dict[str, Any], now: float | None = None) -> dict[str, Any]:
    """One agent for the table: ``agent`` the id, ``name`` the configured display name."""
    now = time.time() if now is None else now
    secs = max(0, int(now - float(agent.get("since") or now)))
    return {
        "agent": agent["name"],
        "name": agent.get("display_name") or "-",
        "state": agent.get("state", "-"),
        "in_state": f"{secs // 3600}:{secs // 60 % 60:02d}:{secs % 60:02d}",
        "pause": pause_text(agent),
        "device": agent.get("device") or "-",
        "queues": ",".join(agent.get("queues", [])) or "-",
    }


@click.group("agents")
def agents_group() -> None:
    """Agents: state and time in state; log in, log out, pause, unpause.

    Example: appliancectl agents pause alice --reason lunch
    """


@agents_group.command("list")
@output_options
@pass_context
def list_agents(ctx: Context, as_json: bool) -> None:
    """List every agent with state and time in state.

    Example: appliancectl agents list --json
    """
    result = query(ctx, "telephonyd", "agents.list")
    if as_json:
        print_json(result)
        return
    print_table([agent_row(a) for a in result["agents"]], COLUMNS)


@agents_group.command("show")
@click.argument("agent")
@output_options
@pass_context
def show_agent(ctx: Context, agent: str, as_json: bool) -> None:
    """Show one agent.

    Example: appliancectl agents show alice
    """
    agents = query(ctx, "telephonyd", "agents.list")["agents"]
    found = next((a for a in agents if a["name"] == agent), None)
    if found is None:
        known = ', '.join(a['name'] for a in agents) or 'none'
        raise CliError(f"no agent {agent!r}; known: {known}")
    if as_json:
        print_json(found)
        return
    for key, value in agent_row(found).items():
        click.echo(f"{key:<9} {value}")


def _done(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(result)
        return
    who = result["name"] + (f" ({result['display_name']})" if result.get("display_name") else "")
    if result.get("pending_pause"):
        detail = f", pause pending ({result['pending_pause']}): taken when the call and " \
                 "wrap-up end"
    else:
        detail = f" ({result['reason']})" if result.get("reason") else ""
    click.echo(f"{who}: {result['state']}{detail}")


@agents_group.command("login")
@click.argument("agent")
@click.argument("device", required=False, default="")
@output_options
@pass_context
def login(ctx: Context, agent: str, device: str, as_json: bool) -> None:
    """Log AGENT in at DEVICE (a port or SIP endpoint), by default the agent's configured
    device.

    Example: appliancectl agents login 1001 fxs1
    """
    _done(audited_call(ctx, "telephonyd", "agents.login", "agent.login", agent,
                       agent=agent, device=device), as_json)


@agents_group.command("logout")
@click.argument("agent")
@output_options
@pass_context
def logout(ctx: Context, agent: str, as_json: bool) -> None:
    """Log AGENT out of every queue.

    Example: appliancectl agents logout alice
    """
    _done(audited_call(ctx, "telephonyd", "agents.logout", "agent.logout", agent, agent=agent),
          as_json)


@agents_group.command("pause")
@click.argument("agent")
@click.option("--reason", default="break", show_default=True, help="Shown to supervisors.")
@output_options
@pass_context
def pause(ctx: Context, agent: str, reason: str, as_json: bool) -> None:
    """Pause AGENT: no queue calls are offered until unpaused.

    An agent on a call (or in wrap-up) is paused when the call and its wrap-up
    end; until then `agents list` shows the pause as pending, and `agents
    unpause` cancels it.

    Example: appliancectl agents pause alice --reason lunch
    """
    _done(audited_call(ctx, "telephonyd", "agents.pause", "agent.pause", agent,
                       agent=agent, reason=reason), as_json)


@agents_group.command("unpause")
@click.argument("agent")
@output_options
@pass_context
def unpause(ctx: Context, agent: str, as_json: bool) -> None:
    """Make a paused AGENT available again (or cancel a pending pause).

    Example: appliancectl agents unpause alice
    """
    _done(audited_call(ctx, "telephonyd", "agents.unpause", "agent.unpause", agent, agent=agent),
          as_json)


def _skill(text: str) -> tuple[str, int]:
    name, _, level = text.partition("=")
    if not name or not level.isdigit():
        raise click.BadParameter(f"{text!r}: give SKILL=LEVEL, e.g. french=7", param_hint="--skill")
    return name, int(level)


@agents_group.command("add")
@click.argument("agent_id", metavar="ID")
@click.option("--name", default="", help="Display name.")
@click.option("--device", default="", help="Default device, e.g. fxs1 or sip/alice.")
@click.option("--skill", "skills", multiple=True, metavar="SKILL=LEVEL", help="Repeatable, 1-10.")
@click.option("--queue", "queues", multiple=True, help="Queue the agent serves (repeatable).")
@file_option
@apply_option
@output_options
@pass_context
def add_agent(ctx: Context, agent_id: str, name: str, device: str, skills: tuple[str, ...],
              queues: tuple[str, ...], file: str | None, apply: bool, as_json: bool) -> None:
    """Add agent ID (digits) to the [acd] configuration, as a member of each --queue.

    Example: appliancectl agents add 1001 --name Alice --device fxs1 --queue sales --apply
    """
    skill_levels = dict(_skill(s) for s in skills)

    def change(acd: dict[str, Any]) -> None:
        if any(str(a.get("id")) == agent_id for a in acd["agents"]):
            raise CliError(f"agent {agent_id!r} already exists", EXIT_REFUSED)
        entry: dict[str, Any] = {"id": agent_id, "name": name, "device": device}
        if skill_levels:
            entry["skills"] = skill_levels
        acd["agents"].append(entry)
        known = {q.get("name"): q for q in acd["queues"]}
        for queue in queues:
            if queue not in known:
                raise CliError(f"no queue {queue!r}; known: {', '.join(map(str, known)) or 'none'}")
            known[queue].setdefault("members", []).append(agent_id)

    path, reports = edit_acd(ctx, file, "agent.add", agent_id, change, apply,
                             {"name": name, "device": device, "queues": list(queues)})
    if as_json:
        print_json({"added": agent_id, "file": path, "daemons": reports})
    else:
        print_applied(f"agent {agent_id}: added to {path}", reports)


@agents_group.command("remove")
@click.argument("agent_id", metavar="ID")
@file_option
@apply_option
@output_options
@pass_context
def remove_agent(ctx: Context, agent_id: str, file: str | None, apply: bool,
                 as_json: bool) -> None:
    """Remove agent ID from the [acd] configuration and from every queue's members.

    Example: appliancectl agents remove 1001 --apply
    """
    def change(acd: dict[str, Any]) -> None:
        ids = [str(a.get("id")) for a in acd["agents"]]
        if agent_id not in ids:
            raise CliError(f"no agent {agent_id!r} in the file; known: {', '.join(ids) or 'none'}")
        acd["agents"] = [a for a in acd["agents"] if str(a.get("id")) != agent_id]
        for queue in acd["queues"]:
            queue["members"] = [m for m in queue.get("members", []) if m != agent_id]

    path, reports = edit_acd(ctx, file, "agent.remove", agent_id, change, apply, {})
    if as_json:
        print_json({"removed": agent_id, "file": path, "daemons": reports})
    else:
        print_applied(f"agent {agent_id}: removed from {path}", reports)
