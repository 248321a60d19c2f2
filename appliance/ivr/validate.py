"""IVR flow validation: every error names the flow and node and says what to fix.

Checks: duplicate and unknown node names, a start node that exists,
unreachable nodes, loops with no exit (nodes from which no path ends the
flow), missing prompts (empty, or no file in ``prompts_dir``), unknown
queues, schedules and caller lists, inbound routes naming unknown flows,
and bad schedules and holiday dates.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from appliance.config.sections.ivr import FlowEntry, IvrSection, NodeEntry
from appliance.ivr.schedule import Schedule, ScheduleError

# node types that end the IVR part of a call (the call is answered, forwarded, recorded or released)
TERMINAL = frozenset({"hangup", "queue", "voicemail"})
NEEDS_PROMPT = frozenset({"play", "menu", "survey"})


def successors(node: NodeEntry) -> list[tuple[str, str]]:
    """(field, target) of each branch of a node; target '' means 'hang up'."""
    t = node.type
    out: list[tuple[str, str]] = []
    if t == "menu":
        out += [(f"choices.{k}", v) for k, v in node.choices.items()]
        out.append(("failure", node.failure))
    elif t == "time":
        out += [("open", node.open), ("closed", node.closed)]
        if node.holiday:
            out.append(("holiday", node.holiday))
    elif t == "callerlist":
        out.append(("next", node.next))
        if node.vip:
            out.append(("vip", node.vip))
        if node.whitelisted:
            out.append(("whitelisted", node.whitelisted))
    elif t in ("route_dnis", "route_trunk"):
        out += [(f"routes.{k}", v) for k, v in node.routes.items()]
        out.append(("next", node.next))
    elif t == "queue":
        out += [
            (f, getattr(node, f))
            for f in ("on_timeout", "on_empty", "on_key", "survey")
            if getattr(node, f)
        ]
    elif t in ("collect", "lookup", "forward"):
        if t != "forward":
            out.append(("next", node.next))
        out.append(("failure", node.failure))
    elif t in ("play", "set", "survey"):
        out.append(("next", node.next))
    return out


def _prompts(node: NodeEntry) -> Iterable[tuple[str, str]]:
    for field in ("prompt", "invalid_prompt", "timeout_prompt"):
        value = getattr(node, field)
        if value:
            yield field, value


def validate_flow(flow: FlowEntry, ivr: IvrSection, queues: Iterable[str]) -> list[str]:
    errors: list[str] = []
    queue_names = set(queues)
    schedules = {s.name for s in ivr.schedules}
    lists = {c.name for c in ivr.caller_lists}
    nodes: dict[str, NodeEntry] = {}
    for node in flow.nodes:
        if node.name in nodes:
            errors.append(
                f"flow {flow.name}, node {node.name}: defined twice; node names must be unique"
            )
        nodes[node.name] = node
    where = f"flow {flow.name}"
    if flow.start not in nodes:
        errors.append(f"{where}: start node {flow.start!r} is not defined")
    for node in flow.nodes:
        at = f"{where}, node {node.name}"
        for field, target in successors(node):
            if target and target not in nodes:
                errors.append(f"{at}: {field} goes to {target!r}, which is not a node of this flow")
        if node.type in NEEDS_PROMPT and not node.prompt:
            errors.append(f"{at}: a {node.type} node needs a prompt")
        if ivr.prompts_dir:
            for field, prompt in _prompts(node):
                if not os.path.exists(os.path.join(ivr.prompts_dir, f"{prompt}.wav")):
                    errors.append(
                        f"{at}: {field} {prompt!r} has no file {prompt}.wav in {ivr.prompts_dir}"
                    )
        if node.type == "menu" and not node.choices:
            errors.append(f"{at}: a menu needs at least one choice")
        if node.type == "queue":
            if not node.queue:
                errors.append(f"{at}: a queue node needs a queue")
            elif "${" not in node.queue and node.queue not in queue_names:
                errors.append(f"{at}: queue {node.queue!r} is not defined in [acd]")
            if node.survey and node.survey in nodes and nodes[node.survey].type != "survey":
                errors.append(f"{at}: survey goes to {node.survey!r}, which is not a survey node")
        if node.type == "time" and node.schedule not in schedules:
            errors.append(f"{at}: schedule {node.schedule!r} is not defined")
        if node.type == "callerlist":
            if not node.lists:
                errors.append(f"{at}: a callerlist node needs at least one list")
            errors += [
                f"{at}: caller list {name!r} is not defined"
                for name in node.lists
                if name not in lists
            ]
        if node.type == "forward" and not node.number:
            errors.append(f"{at}: a forward node needs a number")
        if node.type == "lookup" and not node.url:
            errors.append(f"{at}: a lookup node needs a url")
        if node.type == "set" and not node.variable:
            errors.append(f"{at}: a set node needs a variable")
        if node.type == "collect" and not node.variable:
            errors.append(f"{at}: a collect node needs a variable")
        if node.type == "voicemail" and not node.box:
            errors.append(f"{at}: a voicemail node needs a box")
    if flow.start not in nodes:
        return errors
    # reachability from the start node
    reached = {flow.start}
    todo = [flow.start]
    while todo:
        for _, target in successors(nodes[todo.pop()]):
            if target in nodes and target not in reached:
                reached.add(target)
                todo.append(target)
    errors += [
        f"{where}, node {n}: unreachable from the start node {flow.start!r}"
        for n in nodes
        if n not in reached
    ]
    # loops with no exit: nodes from which no path reaches a terminal node or a hang-up branch
    exits = {
        n
        for n, node in nodes.items()
        if node.type in TERMINAL
        # '' hangs up; an unknown target is reported above, so it is not a loop too
        or any(t == "" or t not in nodes for _, t in successors(node))
    }
    can_exit = set(exits)
    changed = True
    while changed:
        changed = False
        for name, node in nodes.items():
            if name not in can_exit and any(t in can_exit for _, t in successors(node)):
                can_exit.add(name)
                changed = True
    stuck = [n for n in nodes if n in reached and n not in can_exit]
    if stuck:
        errors.append(
            f"{where}: nodes {', '.join(stuck)} form a loop with no exit; "
            "give one of them a branch to a queue, voicemail or hangup"
        )
    return errors


def validate_ivr(ivr: IvrSection, queues: Iterable[str]) -> list[str]:
    """Every problem of the IVR configuration, as messages a field engineer can act on."""
    queue_names = list(queues)
    errors: list[str] = []
    flows = [f.name for f in ivr.flows]
    for name in {f for f in flows if flows.count(f) > 1}:
        errors.append(f"flow {name}: defined twice")
    for flow in ivr.flows:
        errors += validate_flow(flow, ivr, queue_names)
    calendars = {c.name: c for c in ivr.holidays}
    for schedule in ivr.schedules:
        try:
            Schedule(schedule, calendars)
        except ScheduleError as exc:
            text = str(exc)
            errors.append(
                text if text.startswith("schedule ") else f"schedule {schedule.name}: {text}"
            )
    for i, route in enumerate(ivr.routes):
        if route.flow not in flows:
            errors.append(f"route {i + 1}: flow {route.flow!r} is not defined")
    return errors
