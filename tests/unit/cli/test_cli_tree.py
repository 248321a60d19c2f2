"""Every appliancectl command documents itself, has --json where it shows data, and completes."""

from __future__ import annotations

from collections.abc import Iterator

import click
from click.shell_completion import BashComplete
from console_fixtures import appliancectl


def walk(command: click.Command, path: str) -> Iterator[tuple[str, click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from walk(sub, f"{path} {name}")


def test_every_command_has_help_with_an_example() -> None:
    missing = [path for path, command in walk(appliancectl(), "appliancectl")
               if not command.help or "Example:" not in command.help]
    assert missing == []


def test_the_whole_tree_of_issue_9_is_there() -> None:
    paths = {path for path, _ in walk(appliancectl(), "appliancectl")}
    for expected in (
        "spans list", "spans show", "spans busy-out", "spans loopback", "ports list",
        "ports show", "calls list", "calls hangup", "calls originate", "queues list",
        "queues show", "agents list", "agents show", "agents login", "agents logout",
        "agents pause", "agents unpause", "ivr validate", "ivr show", "power status",
        "power history", "power test-lifeline", "users list", "users add", "users disable",
        "users grant", "audit", "queues add", "queues remove", "agents add", "agents remove", "logs", "status", "config validate", "db check",
    ):
        assert f"appliancectl {expected}" in paths


def test_every_leaf_command_of_issue_9_has_json() -> None:
    tree = appliancectl()
    mine = ("spans", "ports", "calls", "queues", "agents", "ivr", "power", "users", "audit",
            "logs")
    for path, command in walk(tree, "appliancectl"):
        if isinstance(command, click.Group) or path.split()[1] not in mine:
            continue
        assert "--json" in [opt for p in command.params for opt in p.opts], path


def test_shell_completion_offers_subcommands_and_choices() -> None:
    tree = appliancectl()
    complete = BashComplete(tree, {}, "appliancectl", "_APPLIANCECTL_COMPLETE")
    names = [c.value for c in complete.get_completions(["spans"], "")]
    assert names == ["busy-out", "list", "loopback", "show"]
    modes = [c.value for c in complete.get_completions(["spans", "loopback", "span1"], "")]
    assert modes == ["off", "local", "remote", "payload"]
    roles = [c.value for c in complete.get_completions(["users", "add", "x", "--role"], "")]
    assert roles == ["admin", "supervisor", "engineer", "viewer"]
    assert "complete -o nosort" in complete.source()
