"""Running IVR flows on calls (IVR-1..4, IVR-7, IVR-8, PWR-5).

One :class:`FlowRun` per call walks the flow's nodes, driven by channel
events (digits, prompt ends, hang-up) and clock timers. Each node entered
adds its name to the call's ``ivr_path`` and, when the node is left, one
``ivr_visits`` row with the result (the key pressed, the branch taken,
``timeout``, ``invalid`` or ``hangup``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from appliance.acd.engine import Acd, AcdError, QueueExit
from appliance.calls.channel import CAUSE_CALL_REJECTED, CAUSE_NORMAL_CLEARING, Channel
from appliance.calls.eventlog import EventLog
from appliance.calls.model import Call, CallManager
from appliance.config.sections.acd import QueueEntry
from appliance.config.sections.ivr import CallerList, FlowEntry, IvrSection, NodeEntry
from appliance.ivr.schedule import Schedule
from appliance.ivr.validate import validate_ivr
from appliance.runtime.clock import Clock, TimerHandle

log = logging.getLogger("appliance.ivr")

LookupReply = Callable[[dict[str, Any] | None], None]
Lookup = Callable[[str, LookupReply], None]
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class IvrError(Exception):
    """The IVR configuration is not usable (validation errors listed in the message)."""


def match_number(number: str, patterns: dict[str, str]) -> str | None:
    """The pattern matching ``number``: an exact key first, then the longest 'prefix*' key."""
    if number in patterns:
        return number
    best: str | None = None
    for key in patterns:
        if (
            key.endswith("*")
            and number.startswith(key[:-1])
            and (best is None or len(key) > len(best))
        ):
            best = key
    return best


def in_list(number: str, numbers: list[str]) -> bool:
    return any(number == n or (n.endswith("*") and number.startswith(n[:-1])) for n in numbers)


@dataclass(frozen=True)
class IvrPlan:
    """One validated ``[ivr]``: routes, flows by name, schedules and caller lists."""

    config: IvrSection
    flows: dict[str, FlowEntry]
    nodes: dict[str, dict[str, NodeEntry]]
    schedules: dict[str, Schedule]
    lists: dict[str, CallerList]

    @classmethod
    def build(cls, config: IvrSection, queues: Mapping[str, QueueEntry]) -> IvrPlan:
        """Validate ``config`` against the ACD's queues; IvrError lists every problem."""
        errors = validate_ivr(config, queues)
        flows = {f.name for f in config.flows}
        for queue in queues.values():
            target = queue.timeout_destination
            if target.startswith("flow:") and target[5:] not in flows:
                errors.append(
                    f"queue {queue.name}: timeout_destination names flow {target[5:]!r}, "
                    "which is not defined in [ivr]"
                )
        if errors:
            raise IvrError("; ".join(errors))
        calendars = {c.name: c for c in config.holidays}
        return cls(
            config=config,
            flows={f.name: f for f in config.flows},
            nodes={f.name: {n.name: n for n in f.nodes} for f in config.flows},
            schedules={s.name: Schedule(s, calendars) for s in config.schedules},
            lists={c.name: c for c in config.caller_lists},
        )


class Ivr:
    """All flows of one appliance, validated, ready to run."""

    def __init__(
        self,
        config: IvrSection,
        clock: Clock,
        calls: CallManager,
        acd: Acd,
        events: EventLog,
        *,
        lookup: Lookup | None = None,
    ) -> None:
        self.clock = clock
        self.calls = calls
        self.acd = acd
        self.events = events
        self.lookup = lookup
        self.runs: dict[str, FlowRun] = {}
        self.plan = IvrPlan.build(config, {q.name: q.config for q in acd.queues.values()})

    @property
    def config(self) -> IvrSection:
        return self.plan.config

    def reconfigure(self, plan: IvrPlan) -> None:
        """Take a new ``[ivr]`` (ADM-1), validated by :meth:`IvrPlan.build`: calls arriving
        from now on follow its routes and flows; a call already in a flow finishes that
        flow as it was when it began."""
        self.plan = plan

    def flow_for(self, call: Call) -> str | None:
        """The inbound route matching the call's DNIS and trunk (IVR-3), first match wins."""
        for route in self.plan.config.routes:
            if route.dnis and match_number(call.dnis, {route.dnis: ""}) is None:
                continue
            if route.trunk and route.trunk != call.trunk:
                continue
            return route.flow
        return None

    def incoming(self, channel: Channel) -> Call:
        """A new inbound call: create it and run the flow its route names (or reject it)."""
        call = self.calls.new_call(channel)
        flow = self.flow_for(call)
        if flow is None:
            log.warning(
                "no inbound route for DNIS %s on %s; call rejected",
                call.dnis,
                call.trunk,
                extra={"call_id": call.call_id, "trunk": call.trunk},
            )
            self.calls.end(call, "REJECTED", CAUSE_CALL_REJECTED)
            return call
        self.start(call, flow)
        return call

    def start(self, call: Call, flow: str, node: str | None = None) -> FlowRun:
        if flow not in self.plan.flows:
            raise IvrError(f"flow {flow!r} is not defined")
        run = FlowRun(self, call, self.plan, flow)
        self.runs[call.call_id] = run
        run.goto(node or run.flow.start)
        return run

    def _done(self, run: FlowRun) -> None:
        if self.runs.get(run.call.call_id) is run:
            del self.runs[run.call.call_id]


class FlowRun:
    """One call walking one flow."""

    def __init__(self, ivr: Ivr, call: Call, plan: IvrPlan, flow: str) -> None:
        self.ivr = ivr
        self.call = call
        self.plan = plan  # the configuration the call began under, kept to its end
        self.flow = plan.flows[flow]
        self.nodes = plan.nodes[flow]
        self.node: NodeEntry | None = None
        self.entered = 0.0
        self.tries = 0
        self.digits = ""
        self.timer: TimerHandle | None = None
        self.waiting_digit = False
        self.other: Channel | None = None  # forward leg
        self.finished = False

    # ------------------------------------------------------------------ plumbing
    @property
    def channel(self) -> Channel:
        return self.call.channel

    def expand(self, text: str) -> str:
        values = {
            "caller": self.call.caller,
            "dnis": self.call.dnis,
            "trunk": self.call.trunk,
            **self.call.variables,
        }
        return _VAR.sub(lambda m: values.get(m[1], ""), text)

    def _timer(self, seconds: float, callback: Callable[[], None]) -> None:
        self._cancel_timer()
        self.timer = self.ivr.clock.call_later(seconds, callback)

    def _cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _leave(self, result: str) -> None:
        if self.node is not None:
            self.ivr.events.ivr_visit(
                self.call.call_id, self.flow.name, self.node.name, result, at=self.entered
            )
            self.node = None
        self._cancel_timer()
        self.waiting_digit = False

    def goto(self, name: str) -> None:
        """Enter node ``name``; '' hangs up."""
        if self.call.ended:
            return
        if not name:
            self.hangup()
            return
        node = self.nodes[name]
        self.node = node
        self.entered = self.ivr.clock.time()
        self.tries = 0
        self.digits = ""
        self.call.ivr_path.append(node.name)
        self.channel.set_listener(self)
        getattr(self, f"_enter_{node.type}")(node)

    def branch(self, result: str, target: str) -> None:
        self._leave(result)
        self.goto(target)

    def hangup(self, disposition: str = "", cause: int = CAUSE_NORMAL_CLEARING) -> None:
        self._leave("hangup")
        self.finished = True
        self.ivr.calls.end(self.call, disposition, cause)
        self.ivr._done(self)

    def _answer(self) -> None:
        self.ivr.calls.answer(self.call)

    # ------------------------------------------------------------------ channel events
    def on_digit(self, channel: Channel, digit: str) -> None:
        node = self.node
        if node is None or channel is not self.channel:
            return
        if node.type == "menu":
            self._menu_digit(node, digit)
        elif node.type == "collect":
            self._collect_digit(node, digit)
        elif node.type == "survey" and self.waiting_digit:
            self._survey_digit(node, digit)

    def on_answered(self, channel: Channel) -> None:
        # the forwarded party: from a forward node, or a blind transfer / overflow
        # destination, where no node is current any more (it must connect all the same)
        if channel is self.other:
            self.ivr.calls.add_leg(self.call, channel)
            self.ivr.calls.connect(self.call, [self.channel, channel])
            self._leave("answered")

    def on_play_done(self, channel: Channel, prompt: str) -> None:
        node = self.node
        if node is None or channel is not self.channel:
            return
        if node.type == "play":
            self.branch("done", node.next)
        elif node.type in ("menu", "collect", "survey"):
            if self._chain:
                prompt, self._chain = self._chain, ""
                channel.play(prompt)
                return
            self.waiting_digit = True
            self._timer(node.timeout, self._digit_timeout)
        elif node.type == "voicemail" and prompt != "beep":
            channel.play("beep")
        elif node.type == "voicemail":
            self._leave("message")
            self._timer(node.max_seconds, lambda: self.hangup())

    def on_hangup(self, channel: Channel, cause: int) -> None:
        if channel is self.other:
            self.other = None
            if self.node is not None and self.node.type == "forward":
                self.branch("failed", self.node.failure)
            else:  # the forwarded party ended the conversation
                self.hangup(cause=cause)
            return
        if self.other is not None:
            self.other.set_listener(None)
            self.other.hangup(cause)
        self.hangup(cause=cause)

    # ------------------------------------------------------------------ nodes
    def _enter_play(self, node: NodeEntry) -> None:
        self._answer()
        self.channel.play(node.prompt)

    def _enter_menu(self, node: NodeEntry) -> None:
        self._answer()
        self.channel.play(node.prompt)

    def _menu_digit(self, node: NodeEntry, digit: str) -> None:
        self.channel.stop_play()
        if digit in node.choices:
            self.branch(digit, node.choices[digit])
        else:
            self._retry(node, "invalid", node.invalid_prompt)

    def _retry(self, node: NodeEntry, why: str, prompt: str) -> None:
        self.tries += 1
        self._cancel_timer()
        self.waiting_digit = False
        if self.tries >= node.retries:
            self.branch(why, node.failure)
            return
        self.digits = ""
        if prompt:
            self.channel.play(prompt)
            # the menu prompt follows the error prompt
            self._chain = node.prompt
        else:
            self.channel.play(node.prompt)

    def _digit_timeout(self) -> None:
        node = self.node
        if node is None:
            return
        self.timer = None
        if node.type == "collect" and self.digits:
            self._collect_done(node)
        elif node.type == "survey":
            self.branch("timeout", node.next)
        else:
            self._retry(node, "timeout", node.timeout_prompt)

    def _enter_collect(self, node: NodeEntry) -> None:
        self._answer()
        if node.prompt:
            self.channel.play(node.prompt)
        else:
            self.waiting_digit = True
            self._timer(node.timeout, self._digit_timeout)

    def _collect_digit(self, node: NodeEntry, digit: str) -> None:
        self.channel.stop_play()
        if node.terminator and digit == node.terminator:
            if self.digits:
                self._collect_done(node)
            else:
                self._retry(node, "timeout", "")
            return
        self.digits += digit
        if len(self.digits) >= node.max_digits:
            self._collect_done(node)
        else:
            self.waiting_digit = True
            self._timer(node.timeout, self._digit_timeout)  # inter-digit timeout

    def _collect_done(self, node: NodeEntry) -> None:
        self.call.variables[node.variable] = self.digits
        self.branch(self.digits, node.next)

    def _enter_time(self, node: NodeEntry) -> None:
        state = self.plan.schedules[node.schedule].state(self.ivr.clock.time())
        target = {"open": node.open, "closed": node.closed, "holiday": node.holiday or node.closed}[
            state
        ]
        self.branch(state, target)

    def _enter_callerlist(self, node: NodeEntry) -> None:
        caller = self.call.caller
        for name in node.lists:
            entry = self.plan.lists[name]
            if not in_list(caller, entry.numbers):
                continue
            if entry.kind == "blacklist":
                self._leave("blacklist")
                self.finished = True
                self.ivr.calls.end(self.call, "REJECTED", CAUSE_CALL_REJECTED)
                self.ivr._done(self)
                return
            if entry.kind == "vip":
                self.call.vip = True
                self.branch("vip", node.vip or node.next)
                return
            self.branch("whitelist", node.whitelisted or node.next)
            return
        self.branch("none", node.next)

    def _enter_route_dnis(self, node: NodeEntry) -> None:
        key = match_number(self.call.dnis, node.routes)
        self.branch(key or "default", node.routes[key] if key is not None else node.next)

    def _enter_route_trunk(self, node: NodeEntry) -> None:
        key = match_number(self.call.trunk, node.routes)
        self.branch(key or "default", node.routes[key] if key is not None else node.next)

    def _enter_set(self, node: NodeEntry) -> None:
        value = self.expand(node.value)
        self.call.variables[node.variable] = value
        if node.variable == "priority":
            try:
                self.call.priority = int(value)
            except ValueError:
                log.error(
                    "flow %s node %s: priority %r is not a whole number",
                    self.flow.name,
                    node.name,
                    value,
                    extra={"call_id": self.call.call_id},
                )
        elif node.variable == "vip":
            self.call.vip = value.lower() in ("1", "yes", "true")
        elif node.variable.startswith("skill_"):
            self.call.skills[node.variable[6:]] = int(value) if value.isdigit() else 0
        self.branch("set", node.next)

    def _enter_lookup(self, node: NodeEntry) -> None:
        lookup = self.ivr.lookup
        if lookup is None:
            self.branch("unavailable", node.failure)
            return
        token = object()
        self._lookup_token = token

        def reply(data: dict[str, Any] | None) -> None:
            if self._lookup_token is not token or self.node is not node:
                return  # too late: the timeout already took the fallback
            self._lookup_token = None
            if data is None:
                self.branch("error", node.failure)
                return
            for key, value in data.items():
                self.call.variables[str(key)] = str(value)
            if "priority" in data and str(data["priority"]).lstrip("-").isdigit():
                self.call.priority = int(data["priority"])
            if str(data.get("vip", "")).lower() in ("1", "true", "yes"):
                self.call.vip = True
            self.branch("found", node.next)

        def timeout() -> None:
            if self._lookup_token is token:
                self._lookup_token = None
                self.branch("timeout", node.failure)

        self._timer(node.timeout, timeout)
        lookup(self.expand(node.url), reply)

    _lookup_token: object | None = None
    _chain: str = ""

    def _enter_queue(self, node: NodeEntry) -> None:
        self._answer()
        queue = self.expand(node.queue)
        self._queue_node = node
        try:
            self.ivr.acd.enqueue(self.call, queue, self._queue_exit)
        except AcdError as exc:
            log.error(
                "flow %s node %s: %s",
                self.flow.name,
                node.name,
                exc,
                extra={"call_id": self.call.call_id},
            )
            self.branch("error", node.on_empty)

    def _queue_exit(self, call: Call, result: QueueExit) -> None:
        node = self._queue_node
        if self.node is node:
            self._leave(result.kind)
        if not result.caller_present:
            self.finished = True
            self.ivr._done(self)
            return
        self.channel.set_listener(self)
        if result.kind == "completed_agent":
            if node.survey:
                self.goto(node.survey)
            else:
                self.hangup("ANSWERED")
        elif result.kind == "timeout":
            if node.on_timeout:
                self.goto(node.on_timeout)
            else:
                self.destination(result.detail)
        elif result.kind == "key":
            self.goto(node.on_key)
        elif result.kind == "empty":
            self.goto(node.on_empty)
        else:  # blind transfer
            self.destination(result.detail)

    def destination(self, target: str) -> None:
        """Send the caller to a destination: hangup, queue:Q, external:N, ext:E (one of our
        phones, any technology), flow:F, voicemail:B."""
        kind, _, arg = target.partition(":")
        if kind == "queue":
            try:
                self.ivr.acd.enqueue(self.call, arg, self._queue_exit)
            except AcdError as exc:  # a queue removed by a reload since the flow began
                log.error("flow %s: %s; caller released", self.flow.name, exc,
                          extra={"call_id": self.call.call_id})
                self.hangup()
        elif kind == "external":
            self._forward(arg, "")
        elif kind == "ext":
            self._forward(arg, "", phone=True)
        elif kind == "flow" and arg in self.ivr.plan.flows:
            self.ivr._done(self)
            self.ivr.start(self.call, arg)
        elif kind == "voicemail":
            self._voicemail(arg, "vm-greeting", 120.0)
        else:
            self.hangup()

    def _enter_voicemail(self, node: NodeEntry) -> None:
        self._answer()
        self.channel.play(node.prompt or "vm-greeting")

    def _voicemail(self, box: str, prompt: str, max_seconds: float) -> None:
        self.call.variables["voicemail_box"] = box
        self.channel.set_listener(self)
        self.channel.play(prompt)
        self.ivr.clock.call_later(max_seconds, lambda: self.hangup())

    def _enter_forward(self, node: NodeEntry) -> None:
        self._forward(self.expand(node.number), node.failure)

    def _forward(self, number: str, failure: str, *, phone: bool = False) -> None:
        """Ring ``number`` outside (``phone``: one of our phones) and connect the caller."""
        if not number:
            self.hangup()
            return
        self.channel.set_listener(self)
        self.channel.play("ringback", loop=True)
        self.call.variables["forwarded_to"] = number
        try:
            self.other = self.ivr.calls.switch.originate(
                number if phone else f"external:{number}", self.call.caller, self)
        except ValueError as exc:  # a phone removed since the destination was checked
            log.error("flow %s: cannot ring %s: %s", self.flow.name, number, exc,
                      extra={"call_id": self.call.call_id})
            self.branch("noanswer", failure)
            return
        node = self.node
        self._timer(node.ring_seconds if node is not None else 30.0, self._forward_timeout)

    def _forward_timeout(self) -> None:
        if self.other is not None:
            other, self.other = self.other, None
            other.set_listener(None)
            other.hangup(CAUSE_NORMAL_CLEARING)
        node = self.node
        self.branch("noanswer", node.failure if node is not None else "")

    def _enter_survey(self, node: NodeEntry) -> None:
        self.channel.play(node.prompt)

    def _survey_digit(self, node: NodeEntry, digit: str) -> None:
        if digit == node.satisfied:
            self.call.satisfaction = 1
        elif digit == node.unsatisfied:
            self.call.satisfaction = 0
        else:
            return
        self.branch(digit, node.next)

    def _enter_hangup(self, node: NodeEntry) -> None:
        self.branch("hangup", "")
