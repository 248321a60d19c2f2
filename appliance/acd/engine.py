"""The automatic call distributor: queues, agents, ringing, RONA, wrap-up (ACD-1..4).

Calls are handed in with :meth:`Acd.enqueue` and leave through the
``on_exit`` callback with a :class:`QueueExit`. Everything is driven by
channel events and clock timers, so the same code runs in real time on the
box and in virtual time under ``hil traffic``. Every step appends one
``queue_log`` row (docs/database.md) through the :class:`EventLog`.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from appliance.acd.agent import Agent, AgentState
from appliance.acd.strategies import STRATEGIES, QueueMemory
from appliance.calls.channel import (
    CAUSE_NORMAL_CLEARING,
    Channel,
)
from appliance.calls.eventlog import EventLog
from appliance.calls.model import Call, CallManager
from appliance.calls.technology import (
    RECALL_CONNECTED,
    RECALL_DIAL,
    RECALL_DIALTONE,
    RECALL_FLASH,
    RECALL_HANGUP,
    RECALL_HOLD,
    RECALL_RETRIEVE,
)
from appliance.calls.tollguard import OutboundBarred
from appliance.config.sections.acd import (
    AcdSection,
    QueueEntry,
    check_acd,
    destination_problem,
)
from appliance.runtime.clock import Clock, TimerHandle

log = logging.getLogger("appliance.acd")

RONA_REASON = "rona"
# the one name of the phone a device string designates, None when the box has no such device
DeviceDirectory = Callable[[str], str | None]


class AcdError(Exception):
    """A request the ACD refuses (unknown agent, wrong state, bad reason)."""


@dataclass(frozen=True)
class QueueExit:
    """How a call left a queue.

    kind: ``completed_agent`` (agent hung up; caller still on the line),
    ``completed_caller``, ``abandoned``, ``timeout`` (detail: destination),
    ``key`` (detail: the key), ``empty`` (no agents; also when it may not
    join), ``transfer`` (blind; detail: target, caller still on the line),
    ``attended_transfer`` (detail: target; the call continues outside the ACD).
    """

    kind: str
    detail: str = ""

    @property
    def caller_present(self) -> bool:
        return self.kind in ("completed_agent", "timeout", "key", "empty", "transfer")


ExitHandler = Callable[[Call, QueueExit], None]


@dataclass
class AcdChanges:
    """What :meth:`Acd.reconfigure` changed, for the log and the reload report."""

    queues_added: list[str] = field(default_factory=list)
    queues_changed: list[str] = field(default_factory=list)
    queues_removed: list[str] = field(default_factory=list)
    agents_added: list[str] = field(default_factory=list)
    agents_changed: list[str] = field(default_factory=list)
    agents_removed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{kind.replace('_', ' ')} {', '.join(names)}"
                 for kind, names in vars(self).items() if names]
        return "; ".join(parts) or "no queue or agent changed"


@dataclass(eq=False)
class Entry:
    """A call waiting in (or being connected from) one queue."""

    call: Call
    queue: QueueRuntime
    seq: int
    priority: int
    enter_mono: float
    original_position: int
    on_exit: ExitHandler
    ringing: dict[str, Channel] = field(default_factory=dict)
    ring_start: float = 0.0
    ring_attempts: int = 0
    tried: set[str] = field(default_factory=set)
    timers: list[TimerHandle] = field(default_factory=list)
    ring_timer: TimerHandle | None = None
    done: bool = False
    chain: str = ""  # announcement prompt to play after the current one

    @property
    def key(self) -> tuple[int, int]:
        return (-self.priority, self.seq)

    # caller-leg events while waiting
    def on_digit(self, channel: Channel, digit: str) -> None:
        self.queue.acd._caller_digit(self, digit)

    def on_answered(self, channel: Channel) -> None:
        return

    def on_play_done(self, channel: Channel, prompt: str) -> None:
        if self.done:
            return
        if self.chain:
            prompt, self.chain = self.chain, ""
            channel.play(prompt)
        else:
            channel.play("moh", loop=True)

    def on_hangup(self, channel: Channel, cause: int) -> None:
        self.queue.acd._abandon(self, cause)


class QueueRuntime:
    """One queue's live state."""

    def __init__(self, acd: Acd, config: QueueEntry) -> None:
        self.acd = acd
        self.config = config
        self.name = config.name
        self.waiting: list[Entry] = []
        self.members: list[Agent] = []
        self.memory = QueueMemory()
        self.strategy = STRATEGIES[config.strategy]
        self.handle_avg = 180.0  # expected handle time for wait estimates (EWMA)

    def position(self, entry: Entry) -> int:
        return self.waiting.index(entry) + 1

    def logged_in(self) -> int:
        return sum(1 for a in self.members if a.logged_in)

    def available(self) -> int:
        """Members idle right now (not ringing, talking, in wrap-up or paused)."""
        return sum(1 for a in self.members if a.available)

    def staffed(self) -> int:
        """Members logged in and not paused (busy ones included)."""
        return sum(1 for a in self.members if a.logged_in and a.state is not AgentState.PAUSED)

    def requirement(self, entry: Entry, now: float) -> dict[str, int]:
        """The skills an entry needs now, widened by its wait (strategy 'skills')."""
        req = dict(self.config.skills)
        req.update(entry.call.skills)
        cfg = self.config
        if cfg.widen_step:
            steps = int((now - entry.enter_mono) // cfg.widen_after)
            req = {k: max(0, v - steps * cfg.widen_step) for k, v in req.items()}
        return req


class Session:
    """An answered call: the caller bridged to an agent (holds, transfers, three-way)."""

    def __init__(self, acd: Acd, entry: Entry, agent: Agent, leg: Channel, wait: float) -> None:
        self.acd = acd
        self.call = entry.call
        self.queue = entry.queue
        self.agent = agent
        self.leg = leg
        self.wait = wait
        self.original_position = entry.original_position
        self.on_exit = entry.on_exit
        self.talk_start = acd.clock.monotonic()
        self.consult: Channel | None = None
        self.consult_target = ""
        self.over = False
        self.keys = ""  # DTMF the agent keyed during the call (in-call feature codes)

    @property
    def talk(self) -> float:
        return self.acd.clock.monotonic() - self.talk_start

    def on_digit(self, channel: Channel, digit: str) -> None:
        if channel is self.leg:  # the agent's keypad; the caller's keys are not features
            self.acd._agent_key(self, digit)

    def on_answered(self, channel: Channel) -> None:
        if channel is self.consult:
            self.leg.stop_play()
            self.acd.calls.add_leg(self.call, channel)
            self.acd.calls.connect(self.call, [self.leg, channel])

    def on_play_done(self, channel: Channel, prompt: str) -> None:
        return

    def on_hangup(self, channel: Channel, cause: int) -> None:
        if channel is self.consult:
            self.consult = None
            self.leg.stop_play()  # a colleague who never answered: no more ringback
            bridge = self.call.bridge
            if bridge is not None and channel in bridge.channels:
                bridge.remove(channel)
            if channel in self.call.legs:
                self.call.legs.remove(channel)
            return
        if self.over:
            return
        if channel is self.call.channel:
            self.acd._complete(self, "COMPLETECALLER", cause)
        elif channel is self.leg:
            self.acd._complete(self, "COMPLETEAGENT", cause)


class Acd:
    """Queues and agents of one appliance."""

    def __init__(
        self,
        config: AcdSection,
        clock: Clock,
        calls: CallManager,
        events: EventLog,
        *,
        rng: random.Random | None = None,
        devices: DeviceDirectory | None = None,
    ) -> None:
        problems = check_acd(config)
        if problems:
            raise AcdError(
                "; ".join(f"{'.'.join(map(str, p.path))}: {p.message}" for p in problems)
            )
        self.config = config
        self.clock = clock
        self.calls = calls
        self.events = events
        self.rng = rng or random.Random(0)
        self.devices = devices  # None: any device name is taken as it is (simulation)
        self.agents: dict[str, Agent] = {}
        self.queues: dict[str, QueueRuntime] = {}
        self.agent_queues: dict[str, list[QueueRuntime]] = {}
        self.pause_reasons: list[str] = []
        self.sessions: dict[str, Session] = {}  # agent id -> session
        # in-call feature codes the agent keys on the phone (recording's *1 / *2 register
        # here): code -> action(call) returning what was done, for the log
        self.call_features: dict[str, Callable[[Call], str]] = {}
        self._seq = itertools.count()
        self._dispatching = False
        self._dispatch_again = False
        self._wrapup_timers: dict[str, TimerHandle] = {}
        self.reconfigure(config)

    # ------------------------------------------------------------------ configuration
    def reconfigure(self, config: AcdSection) -> AcdChanges:
        """Take a new ``[acd]`` on the running ACD, keeping every call and login (ADM-1).

        Agents and queues are matched by id and name. A changed agent keeps its
        state and call; a removed agent is logged out at once, or once the call it
        rings for or talks on is over. A changed queue keeps its waiting callers, in
        order, and its strategy memory; its new members, strategy and weight rule the
        next dispatch, while timers already armed for a waiting call (max wait,
        overflow, announcements) keep the values it entered with. A removed queue
        takes no new call and its waiting callers leave as when it empties (EXITEMPTY).
        """
        problems = check_acd(config)
        if problems:
            raise AcdError(
                "; ".join(f"{'.'.join(map(str, p.path))}: {p.message}" for p in problems)
            )
        changes = AcdChanges()
        wanted = {a.id: a for a in config.agents}
        for entry in config.agents:
            agent = self.agents.get(entry.id)
            if agent is None:
                self.agents[entry.id] = Agent(entry.id)
                changes.agents_added.append(entry.id)
            elif agent.retired or (agent.name, agent.device, agent.skills, agent.wrapup) != (
                    entry.name, entry.device, dict(entry.skills), entry.wrapup):
                changes.agents_changed.append(entry.id)
            agent = self.agents[entry.id]
            agent.name, agent.device = entry.name, entry.device
            agent.skills, agent.wrapup = dict(entry.skills), entry.wrapup
            agent.retired = False
        retired = [a for a in self.agents.values() if a.id not in wanted and not a.retired]
        queues = {q.name: q for q in config.queues}
        removed = [q for name, q in self.queues.items() if name not in queues]
        for q in config.queues:
            runtime = self.queues.get(q.name)
            if runtime is None:
                runtime = self.queues[q.name] = QueueRuntime(self, q)
                changes.queues_added.append(q.name)
            elif runtime.config != q:
                changes.queues_changed.append(q.name)
            runtime.config, runtime.strategy = q, STRATEGIES[q.strategy]
            runtime.members = [self.agents[m] for m in q.members]
            runtime.memory.order = {m: i for i, m in enumerate(q.members)}
        for runtime in removed:
            del self.queues[runtime.name]
            changes.queues_removed.append(runtime.name)
        self.agent_queues = {a: [] for a in self.agents}
        for runtime in self.queues.values():
            for agent in runtime.members:
                self.agent_queues[agent.id].append(runtime)
        self.pause_reasons = [*config.pause_reasons, RONA_REASON]
        self.config = config
        for runtime in removed:
            self._empty_out(runtime)
        for agent in retired:
            agent.retired = True
            changes.agents_removed.append(agent.id)
            if agent.state not in (AgentState.RINGING, AgentState.TALKING):
                self._retire(agent)  # else once its call is over (_set_state)
        self._apply_leave_rules()
        self._dispatch()
        return changes

    def _retire(self, agent: Agent) -> None:
        """An agent no longer configured: logged out (if it was) and forgotten."""
        if not agent.retired or agent.state in (AgentState.RINGING, AgentState.TALKING):
            return  # configured again meanwhile, or rung for a call once more
        if agent.logged_in:
            self.logout(agent.id)
        self.agents.pop(agent.id, None)
        self.agent_queues.pop(agent.id, None)

    def _empty_out(self, queue: QueueRuntime, ringing: bool = True) -> None:
        """Callers waiting in ``queue`` leave it as from an empty queue (EXITEMPTY); with
        ``ringing`` False those an agent is being rung for stay."""
        for entry in list(queue.waiting):
            if entry.ringing and not ringing:
                continue
            position, wait = self._leave(entry)
            self.events.queue_event(
                "EXITEMPTY",
                call_id=entry.call.call_id,
                queue=queue.name,
                data=(position, entry.original_position, wait),
            )
            entry.call.channel.stop_play()
            entry.on_exit(entry.call, QueueExit("empty", queue.name))

    # ------------------------------------------------------------------ helpers
    def _agent(self, agent_id: str) -> Agent:
        try:
            return self.agents[agent_id]
        except KeyError:
            raise AcdError(f"unknown agent {agent_id!r}") from None

    def waiting_in(self, call_id: str) -> str | None:
        """The queue call ``call_id`` is waiting in now (None: not waiting in any)."""
        return next((q.name for q in self.queues.values()
                     if any(e.call.call_id == call_id for e in q.waiting)), None)

    def agent_name(self, agent_id: str) -> str:
        """The configured display name of ``agent_id`` ('' if none or not an agent)."""
        agent = self.agents.get(agent_id)
        return agent.name if agent is not None else ""

    def _queue(self, name: str) -> QueueRuntime:
        try:
            return self.queues[name]
        except KeyError:
            raise AcdError(f"unknown queue {name!r}") from None

    def _set_state(self, agent: Agent, state: AgentState) -> None:
        agent.state = state
        agent.state_since = self.clock.monotonic()
        if agent.retired and state not in (AgentState.RINGING, AgentState.TALKING,
                                           AgentState.LOGGED_OUT):
            # removed from the configuration during its call: gone once the call is over
            self.clock.call_later(0.0, self._retire, agent)
        if self.events.bus is not None:
            self.events.bus.publish(
                "agent.state", agent=agent.id, state=state.value, reason=agent.pause_reason
            )

    def _cancel_timers(self, entry: Entry) -> None:
        for timer in entry.timers:
            timer.cancel()
        entry.timers.clear()
        if entry.ring_timer is not None:
            entry.ring_timer.cancel()
            entry.ring_timer = None

    # ------------------------------------------------------------------ agents
    def login(self, agent_id: str, device: str = "") -> None:
        agent = self._agent(agent_id)
        if agent.logged_in:
            raise AcdError(f"agent {agent_id} is already logged in")
        self._seat(agent, device or agent.device, self.clock.monotonic())
        self._set_state(agent, AgentState.IDLE)
        self.events.queue_event("AGENTLOGIN", agent=agent_id, data=(agent.active_device,))
        self._dispatch()

    def restore_login(self, agent_id: str, device: str, since: float, pause_reason: str) -> None:
        """Put back an agent who was logged in when the daemon stopped
        (:mod:`appliance.acd.logins`): the session goes on from ``since`` (epoch), paused
        when ``pause_reason`` is set; no AGENTLOGIN is written. Refused as a login is."""
        agent = self._agent(agent_id)
        if agent.logged_in:
            raise AcdError(f"agent {agent_id} is already logged in")
        now = self.clock.monotonic()
        self._seat(agent, device, now - max(0.0, self.clock.time() - since))
        agent.pause_reason = pause_reason
        self._set_state(agent, AgentState.PAUSED if pause_reason else AgentState.IDLE)
        self._dispatch()

    def _seat(self, agent: Agent, wanted: str, login_at: float) -> None:
        """Check that ``wanted`` is a phone of ours no other agent holds, then seat ``agent``
        on it as logged in since ``login_at`` (monotonic)."""
        if not wanted:
            raise AcdError(f"agent {agent.id} has no device; give one to log in")
        phone = self.phone_of(wanted)
        if phone is None:
            raise AcdError(f"agent {agent.id}: no device {wanted!r} on this appliance; give a "
                           "phone port or extension (ports list shows them)")
        holder = next((a for a in self.agents.values() if a is not agent and a.logged_in
                       and self.phone_of(a.active_device) == phone), None)
        if holder is not None:
            who = f"{holder.id} ({holder.name})" if holder.name else holder.id
            raise AcdError(f"agent {agent.id}: device {wanted} is held by agent {who}; "
                           "log that agent out first")
        agent.active_device = wanted
        agent.login_at = login_at
        agent.idle_since = self.clock.monotonic()
        agent.pause_reason = ""
        agent.pending_pause = ""

    def phone_of(self, device: str) -> str | None:
        """The one name of the phone ``device`` designates (None: not a phone of ours)."""
        return self.devices(device) if self.devices is not None else device

    def logout(self, agent_id: str) -> None:
        agent = self._agent(agent_id)
        if not agent.logged_in:
            raise AcdError(f"agent {agent_id} is not logged in")
        if agent.state in (AgentState.RINGING, AgentState.TALKING):
            raise AcdError(f"agent {agent_id} is on a call; log out after it")
        if agent.state is AgentState.PAUSED:
            self._log_unpause(agent)
        login_s = self.clock.monotonic() - agent.login_at
        if agent.state is AgentState.WRAPUP:
            self._end_wrapup_event(agent)
        self._set_state(agent, AgentState.LOGGED_OUT)
        self.events.queue_event("AGENTLOGOFF", agent=agent_id, data=(agent.active_device, login_s))
        self._apply_leave_rules()

    def pause(self, agent_id: str, reason: str) -> None:
        agent = self._agent(agent_id)
        if reason not in self.pause_reasons:
            raise AcdError(
                f"pause reason {reason!r} unknown; use one of {', '.join(self.pause_reasons)}"
            )
        if not agent.logged_in:
            raise AcdError(f"agent {agent_id} is not logged in")
        if agent.state is AgentState.PAUSED:
            raise AcdError(f"agent {agent_id} is already paused ({agent.pause_reason})")
        if agent.state in (AgentState.TALKING, AgentState.WRAPUP):
            agent.pending_pause = reason  # taken when the call and its wrap-up end
            return
        if agent.state is AgentState.RINGING:
            raise AcdError(f"agent {agent_id} is being rung; answer or let it ring out first")
        self._do_pause(agent, reason)

    def _do_pause(self, agent: Agent, reason: str) -> None:
        agent.pause_reason = reason
        self._set_state(agent, AgentState.PAUSED)
        self.events.queue_event("PAUSE", agent=agent.id, data=(reason,))
        self._apply_leave_rules()

    def unpause(self, agent_id: str) -> None:
        agent = self._agent(agent_id)
        if agent.pending_pause:
            agent.pending_pause = ""
            return
        if agent.state is not AgentState.PAUSED:
            raise AcdError(f"agent {agent_id} is not paused")
        self._log_unpause(agent)
        agent.idle_since = self.clock.monotonic()
        self._set_state(agent, AgentState.IDLE)
        self._dispatch()

    def _log_unpause(self, agent: Agent) -> None:
        paused = self.clock.monotonic() - agent.state_since
        self.events.queue_event("UNPAUSE", agent=agent.id, data=(agent.pause_reason, paused))
        agent.pause_reason = ""

    def end_wrapup(self, agent_id: str) -> None:
        """The agent finished after-call work early."""
        agent = self._agent(agent_id)
        if agent.state is not AgentState.WRAPUP:
            raise AcdError(f"agent {agent_id} is not in wrap-up")
        self._wrapup_over(agent)

    # ------------------------------------------------------------------ calls in
    def enqueue(self, call: Call, queue_name: str, on_exit: ExitHandler) -> bool:
        """Put ``call`` in a queue. Returns False (and calls ``on_exit`` with kind
        ``empty``) when the queue's join rule refuses it."""
        queue = self._queue(queue_name)
        cfg = queue.config
        if (cfg.join_empty == "if_logged_in" and queue.logged_in() == 0) or (
            cfg.join_empty == "if_unpaused" and queue.staffed() == 0
        ):
            on_exit(call, QueueExit("empty", queue_name))
            return False
        priority = call.priority + (cfg.vip_priority if call.vip else 0)
        if cfg.long_distance_priority and not any(
            call.caller.startswith(p) for p in cfg.local_prefixes
        ):
            priority += cfg.long_distance_priority
        entry = Entry(call, queue, next(self._seq), priority, self.clock.monotonic(), 0, on_exit)
        bisect.insort(queue.waiting, entry, key=lambda e: e.key)
        entry.original_position = queue.position(entry)
        call.queue = queue_name
        call.channel.set_listener(entry)
        self.events.queue_event(
            "ENTERQUEUE",
            call_id=call.call_id,
            queue=queue_name,
            data=(call.caller, call.dnis, priority, call.trunk),
        )
        if cfg.overflow_queue and cfg.overflow_when_unavailable and queue.available() == 0:
            self._overflow(entry)
            return True
        call.channel.play("moh", loop=True)
        if cfg.max_wait:
            entry.timers.append(self.clock.call_later(cfg.max_wait, self._timeout, entry))
        if cfg.overflow_queue and cfg.overflow_after:
            entry.timers.append(self.clock.call_later(cfg.overflow_after, self._overflow, entry))
        if cfg.announce_every:
            entry.timers.append(self.clock.call_later(cfg.announce_every, self._announce, entry))
        if (
            cfg.strategy == "skills"
            and cfg.widen_step
            and queue.requirement(entry, entry.enter_mono)
        ):
            entry.timers.append(self.clock.call_later(cfg.widen_after, self._widen, entry))
        self._dispatch()
        return True

    def _leave(self, entry: Entry) -> tuple[int, float]:
        """Take an entry out of its queue; returns (position it had, wait)."""
        position = entry.queue.position(entry)
        entry.queue.waiting.remove(entry)
        entry.done = True
        self._cancel_timers(entry)
        self._stop_ringing(entry)
        return position, self.clock.monotonic() - entry.enter_mono

    def _stop_ringing(self, entry: Entry, keep: Agent | None = None) -> None:
        for agent_id, leg in list(entry.ringing.items()):
            agent = self.agents[agent_id]
            if agent is keep:
                continue
            leg.set_listener(None)
            leg.hangup(CAUSE_NORMAL_CLEARING)
            agent.leg = None
            if agent.state is AgentState.RINGING:
                self._set_state(agent, AgentState.IDLE)
        entry.ringing.clear()

    def _abandon(self, entry: Entry, cause: int) -> None:
        if entry.done:
            return
        position, wait = self._leave(entry)
        self.events.queue_event(
            "ABANDON",
            call_id=entry.call.call_id,
            queue=entry.queue.name,
            data=(position, entry.original_position, wait),
        )
        self.calls.end(entry.call, "ABANDONED", cause)
        entry.on_exit(entry.call, QueueExit("abandoned"))
        self._dispatch()

    def _timeout(self, entry: Entry) -> None:
        if entry.done:
            return
        position, wait = self._leave(entry)
        destination = entry.queue.config.timeout_destination
        self.events.queue_event(
            "EXITWITHTIMEOUT",
            call_id=entry.call.call_id,
            queue=entry.queue.name,
            data=(position, entry.original_position, wait, destination),
        )
        entry.call.channel.stop_play()
        entry.on_exit(entry.call, QueueExit("timeout", destination))
        self._dispatch()

    def _caller_digit(self, entry: Entry, digit: str) -> None:
        key = entry.queue.config.exit_key
        if entry.done or not key or digit != key:
            return
        position, wait = self._leave(entry)
        self.events.queue_event(
            "EXITWITHKEY",
            call_id=entry.call.call_id,
            queue=entry.queue.name,
            data=(digit, position, entry.original_position, wait),
        )
        entry.call.channel.stop_play()
        entry.on_exit(entry.call, QueueExit("key", digit))
        self._dispatch()

    def _overflow(self, entry: Entry) -> None:
        if entry.done:
            return
        target = entry.queue.config.overflow_queue
        position, wait = self._leave(entry)
        self.events.queue_event(
            "OVERFLOW",
            call_id=entry.call.call_id,
            queue=entry.queue.name,
            data=(target, position, wait),
        )
        self.enqueue(entry.call, target, entry.on_exit)

    def _apply_leave_rules(self) -> None:
        for queue in self.queues.values():
            rule = queue.config.leave_empty
            if rule == "never" or not queue.waiting:
                continue
            empty = queue.logged_in() == 0 if rule == "no_logged_in" else queue.staffed() == 0
            if empty:
                self._empty_out(queue, ringing=False)

    def _announce(self, entry: Entry) -> None:
        if entry.done:
            return
        queue = entry.queue
        position = queue.position(entry)
        channel = entry.call.channel
        if not entry.ringing:
            if queue.config.announce_expected_wait:
                entry.chain = f"queue-wait:{round(self.expected_wait(queue, position))}"
            channel.play(f"queue-position:{position}")
        entry.timers.append(
            self.clock.call_later(queue.config.announce_every, self._announce, entry)
        )

    def expected_wait(self, queue: QueueRuntime, position: int) -> float:
        """Expected wait of the call at ``position``: the calls ahead served by the
        logged-in agents at the queue's average handle time (Erlang-free estimate)."""
        staffed = max(1, queue.staffed())
        return position * queue.handle_avg / staffed

    def _widen(self, entry: Entry) -> None:
        if entry.done:
            return
        req = entry.queue.requirement(entry, self.clock.monotonic())
        if any(v > 0 for v in req.values()):
            entry.timers.append(
                self.clock.call_later(entry.queue.config.widen_after, self._widen, entry)
            )
        self._dispatch()

    # ------------------------------------------------------------------ routing
    def _dispatch(self) -> None:
        """Offer waiting calls to available agents until no more pairing is possible."""
        if self._dispatching:
            self._dispatch_again = True
            return
        self._dispatching = True
        try:
            self._dispatch_again = True
            while self._dispatch_again:
                self._dispatch_again = False
                self._dispatch_once()
        finally:
            self._dispatching = False

    def _dispatch_once(self) -> None:
        now = self.clock.monotonic()
        queues = [q for q in self.queues.values() if q.waiting]
        queues.sort(key=lambda q: (-q.config.weight, q.waiting[0].enter_mono))
        for queue in queues:
            cands = [a for a in queue.members if a.state is AgentState.IDLE]
            if not cands:
                continue
            by_skill = queue.config.strategy == "skills"
            # requirements no available agent meets; the pool only shrinks during the pass
            unmet: set[tuple[tuple[str, int], ...]] = set()
            for entry in queue.waiting:
                if not cands:
                    break
                if entry.ringing:
                    continue
                req: dict[str, int] = {}
                if by_skill:
                    req = queue.requirement(entry, now)
                    signature = tuple(sorted(req.items()))
                    if not entry.tried and signature in unmet:
                        continue
                pool = cands
                if entry.tried:  # after RONA without pause: the others first
                    pool = [a for a in cands if a.id not in entry.tried]
                    if not pool:
                        entry.tried.clear()
                        pool = cands
                chosen = queue.strategy(pool, queue.memory, req, self.rng)
                if not chosen:
                    if by_skill and pool is cands:
                        unmet.add(signature)
                    continue
                for agent in chosen:
                    cands.remove(agent)
                self._ring(entry, chosen)

    def route_decision(self, queue_name: str) -> list[Agent]:
        """The agents the head call of ``queue_name`` would ring now (no side effects; bench)."""
        queue = self._queue(queue_name)
        cands = [a for a in queue.members if a.state is AgentState.IDLE]
        if not cands or not queue.waiting:
            return []
        entry = queue.waiting[0]
        req = (
            queue.requirement(entry, self.clock.monotonic())
            if queue.config.strategy == "skills"
            else {}
        )
        return queue.strategy(cands, queue.memory, req, self.rng)

    def _ring(self, entry: Entry, agents: list[Agent]) -> None:
        queue = entry.queue
        entry.ring_attempts += 1
        entry.ring_start = self.clock.monotonic()
        for agent in agents:
            queue.memory.last_index = queue.memory.order[agent.id]
            self._set_state(agent, AgentState.RINGING)
            self.events.queue_event(
                "RINGING",
                call_id=entry.call.call_id,
                queue=queue.name,
                agent=agent.id,
                data=(entry.ring_attempts,),
            )
            leg = self.calls.switch.originate(
                agent.active_device, entry.call.caller, AgentLeg(self, entry, agent)
            )
            agent.leg = leg
            entry.ringing[agent.id] = leg
        entry.ring_timer = self.clock.call_later(queue.config.ring_timeout, self._rona, entry)

    def _rona(self, entry: Entry, agents: list[str] | None = None) -> None:
        """Ring-no-answer: log it, pause the agent(s) if configured, try the next agent."""
        if entry.done:
            return
        ids = agents if agents is not None else list(entry.ringing)
        ring_time = self.clock.monotonic() - entry.ring_start
        for agent_id in ids:
            leg = entry.ringing.pop(agent_id, None)
            if leg is None:
                continue
            agent = self.agents[agent_id]
            leg.set_listener(None)
            leg.hangup(CAUSE_NORMAL_CLEARING)
            agent.leg = None
            entry.tried.add(agent_id)
            self.events.queue_event(
                "RINGNOANSWER",
                call_id=entry.call.call_id,
                queue=entry.queue.name,
                agent=agent_id,
                data=(ring_time,),
            )
            self._set_state(agent, AgentState.IDLE)
            if entry.queue.config.rona_pause:
                log.info(
                    "agent %s did not answer; paused",
                    agent_id,
                    extra={"agent": agent_id, "queue": entry.queue.name},
                )
                self._do_pause(agent, RONA_REASON)
        if not entry.ringing and entry.ring_timer is not None:
            entry.ring_timer.cancel()
            entry.ring_timer = None
        self._dispatch()

    def _agent_answered(self, entry: Entry, agent: Agent) -> None:
        if entry.done or agent.id not in entry.ringing:
            return
        leg = entry.ringing.pop(agent.id)
        queue = entry.queue
        now = self.clock.monotonic()
        ring_time = now - entry.ring_start
        _, wait = self._leave(entry)  # stops the other ringing legs (ringall)
        call = entry.call
        call.agent = agent.id
        self.calls.answer(call)
        self.calls.add_leg(call, leg)
        self._set_state(agent, AgentState.TALKING)
        queue.memory.calls[agent.id] = queue.memory.calls.get(agent.id, 0) + 1
        self.events.queue_event(
            "CONNECT",
            call_id=call.call_id,
            queue=queue.name,
            agent=agent.id,
            data=(wait, leg.name, ring_time),
        )
        session = Session(self, entry, agent, leg, wait)
        self.sessions[agent.id] = session
        call.channel.set_listener(session)
        leg.set_listener(session)
        self.calls.connect(call, [call.channel, leg])
        self._dispatch()

    def _agent_leg_failed(self, entry: Entry, agent: Agent) -> None:
        """The device refused or failed before answer: treated as ring-no-answer."""
        if entry.done or agent.id not in entry.ringing:
            return
        self._rona(entry, [agent.id])

    # ------------------------------------------------------------------ answered calls
    def session(self, agent_id: str) -> Session:
        self._agent(agent_id)
        try:
            return self.sessions[agent_id]
        except KeyError:
            raise AcdError(f"agent {agent_id} has no call") from None

    def _finish_session(self, session: Session) -> None:
        session.over = True
        self.sessions.pop(session.agent.id, None)
        queue = session.queue
        talk = session.talk
        queue.memory.talk[session.agent.id] = queue.memory.talk.get(session.agent.id, 0.0) + talk
        queue.handle_avg = 0.9 * queue.handle_avg + 0.1 * talk
        leg = session.leg
        leg.set_listener(None)
        if session.consult is not None and not session.consult.hung_up:
            self.calls.drop_leg(session.call, session.consult)
        if leg in session.call.legs:
            self.calls.drop_leg(session.call, leg)
        session.agent.leg = None
        self._start_wrapup(session.agent, queue)

    def _complete(self, session: Session, event: str, cause: int) -> None:
        call = session.call
        self.events.queue_event(
            event,
            call_id=call.call_id,
            queue=session.queue.name,
            agent=session.agent.id,
            data=(session.wait, session.talk, session.original_position),
        )
        if call.on_hold:
            self.events.queue_event(
                "UNHOLD",
                call_id=call.call_id,
                queue=session.queue.name,
                agent=session.agent.id,
                data=(self.clock.monotonic() - call.hold_since,),
            )
            call.on_hold = False
        self._finish_session(session)
        if event == "COMPLETECALLER":
            self.calls.end(call, "ANSWERED", cause)
            session.on_exit(call, QueueExit("completed_caller"))
        else:
            if call.bridge is not None:
                call.bridge.destroy()
                call.bridge = None
            session.on_exit(call, QueueExit("completed_agent"))

    def _agent_key(self, session: Session, digit: str) -> None:
        """A key the agent pressed while talking; a completed feature code runs its action."""
        session.keys = (session.keys + digit)[-8:]  # codes are at most 8 keys (config)
        code = next((c for c in self.call_features if session.keys.endswith(c)), None)
        if code is None:
            return
        session.keys = ""
        call = session.call
        try:
            done = self.call_features[code](call)
        except Exception as exc:  # a feature that cannot act must not end the call
            log.warning("agent %s keyed %s on call %s: %s", session.agent.id, code,
                        call.call_id, exc, extra={"call_id": call.call_id})
            return
        log.info("agent %s keyed %s on call %s: %s", session.agent.id, code, call.call_id,
                 done, extra={"call_id": call.call_id})

    def recall(self, leg: Channel, action: str, destination: str = "") -> str:
        """Register recall (hook flash) on an agent's phone during a queue call (ACD-4),
        the attended transfer of a PBX: a flash holds the caller and the phone gets dial
        tone; the number keyed then is consulted (:meth:`consult`); on-hook with the
        consulted party answered hands the caller over (:meth:`complete_transfer`); a
        flash during the consultation drops it and takes the caller back. On-hook before
        the consulted party answered drops the consultation, and the agent's hang-up
        ends the call as it would without a flash. The phone's own hold and retrieve (a SIP
        phone's hold key) hold the caller and take it back, as ``calls hold`` / ``unhold``
        do, and leave a consultation alone. '' when ``leg`` is no agent's call."""
        session = next((s for s in self.sessions.values() if s.leg is leg), None)
        if session is None:
            return ""
        agent = session.agent.id
        if action == RECALL_FLASH:
            if session.consult is not None:
                self.cancel_consult(agent)
                return RECALL_CONNECTED
            if session.call.on_hold:
                self.unhold(agent)
                return RECALL_CONNECTED
            self.hold(agent)
            return RECALL_DIALTONE
        if action == RECALL_HOLD:
            if session.consult is None and not session.call.on_hold:
                self.hold(agent)
            return RECALL_DIALTONE if session.call.on_hold else ""
        if action == RECALL_RETRIEVE:
            if session.consult is None and session.call.on_hold:
                self.unhold(agent)
            return "" if session.call.on_hold else RECALL_CONNECTED
        if action == RECALL_DIAL:
            try:
                self.consult(agent, destination)
            except AcdError as exc:
                log.info("agent %s: consultation of %s refused: %s", agent, destination, exc,
                         extra={"call_id": session.call.call_id, "agent": agent})
                return ""
            return RECALL_CONNECTED
        if action == RECALL_HANGUP:
            if session.consult is not None and session.consult in session.call.legs:
                self.complete_transfer(agent)
                return RECALL_CONNECTED
            if session.consult is not None:
                self.cancel_consult(agent)
        return ""

    def hold(self, agent_id: str) -> None:
        session = self.session(agent_id)
        self.calls.hold(session.call)
        self.events.queue_event(
            "HOLD", call_id=session.call.call_id, queue=session.queue.name, agent=agent_id
        )

    def unhold(self, agent_id: str) -> None:
        session = self.session(agent_id)
        held = self.calls.unhold(session.call, [session.leg])
        self.events.queue_event(
            "UNHOLD",
            call_id=session.call.call_id,
            queue=session.queue.name,
            agent=agent_id,
            data=(held,),
        )

    def blind_transfer(self, agent_id: str, target: str) -> None:
        """Send the caller to ``target`` (queue:NAME, external:NUMBER, flow:NAME...) at once."""
        session = self.session(agent_id)
        self.check_destination(target, session.leg.name)
        call = session.call
        self.events.queue_event(
            "BLINDTRANSFER",
            call_id=call.call_id,
            queue=session.queue.name,
            agent=agent_id,
            data=(target, session.wait, session.talk, session.original_position),
        )
        if call.on_hold:
            call.on_hold = False
            call.channel.stop_play()
        self._finish_session(session)
        if call.bridge is not None:
            call.bridge.destroy()
            call.bridge = None
        session.on_exit(call, QueueExit("transfer", target))

    def check_destination(self, target: str, phone: str = "") -> None:
        """Refuse a transfer target that cannot be reached, or an outside number the agent's
        ``phone`` may not call (its class of service, SEC-4), before anything changes."""
        problem = destination_problem(target)
        if problem:
            raise AcdError(problem)
        if phone and target.startswith("external:"):
            try:
                self.calls.toll.check(phone, target.removeprefix("external:"))
            except OutboundBarred as exc:
                raise AcdError(str(exc)) from exc
        if target.startswith("queue:") and target[6:] not in self.queues:
            raise AcdError(f"queue {target[6:]!r} is not defined")
        if target.startswith("ext:") and self.phone_of(target[4:]) is None:
            raise AcdError(f"no phone {target[4:]!r} on this appliance (an extension, a "
                           "port, sip:NUMBER)")

    def consult(self, agent_id: str, destination: str) -> None:
        """Attended transfer, step 1: hold the caller and ring ``destination``."""
        session = self.session(agent_id)
        if session.consult is not None:
            raise AcdError(f"agent {agent_id} is already consulting {session.consult_target}")
        if destination.startswith("external:"):
            self.check_destination(destination, session.leg.name)
        try:  # ring first: a destination that does not exist holds nobody
            consult = self.calls.switch.originate(destination, session.call.caller, session)
        except ValueError as exc:
            raise AcdError(f"cannot consult {destination!r}: {exc}") from exc
        session.consult_target, session.consult = destination, consult
        if not session.call.on_hold:
            self.hold(agent_id)
        session.leg.play("ringback", loop=True)  # the agent hears the colleague's phone ring

    def cancel_consult(self, agent_id: str) -> None:
        session = self.session(agent_id)
        if session.consult is not None:
            self.calls.drop_leg(session.call, session.consult)
            session.consult = None
            session.leg.stop_play()
        if session.call.on_hold:
            self.unhold(agent_id)

    def complete_transfer(self, agent_id: str) -> None:
        """Attended transfer, step 2: join the caller to the consulted party; the agent leaves."""
        session = self.session(agent_id)
        consult = session.consult
        if consult is None or consult not in session.call.legs:
            raise AcdError(f"agent {agent_id} has no answered consultation to transfer to")
        call = session.call
        self.events.queue_event(
            "ATTENDEDTRANSFER",
            call_id=call.call_id,
            queue=session.queue.name,
            agent=agent_id,
            data=(session.consult_target, session.wait, session.talk, session.original_position),
        )
        session.consult = None
        call.on_hold = False
        call.channel.stop_play()
        self._finish_session(session)
        self.calls.connect(call, [call.channel, consult])
        Transferred(self.calls, call, consult)
        session.on_exit(call, QueueExit("attended_transfer", session.consult_target))

    def three_way(self, agent_id: str) -> None:
        """Bring caller, agent and the consulted party together (three-way call)."""
        session = self.session(agent_id)
        consult = session.consult
        if consult is None or consult not in session.call.legs:
            raise AcdError(f"agent {agent_id} has no answered consultation for a three-way call")
        call = session.call
        held = self.calls.unhold(call, [session.leg, consult]) if call.on_hold else 0.0
        self.events.queue_event(
            "UNHOLD", call_id=call.call_id, queue=session.queue.name, agent=agent_id, data=(held,)
        )

    # ------------------------------------------------------------------ wrap-up
    def _start_wrapup(self, agent: Agent, queue: QueueRuntime) -> None:
        limit = agent.wrapup if agent.wrapup is not None else queue.config.wrapup
        if limit <= 0:
            self._agent_free(agent)
            return
        self._set_state(agent, AgentState.WRAPUP)
        self.events.queue_event("WRAPUPSTART", queue=queue.name, agent=agent.id, data=(limit,))
        timer = self.clock.call_later(limit, self._wrapup_timer, agent, agent.state_since)
        self._wrapup_timers[agent.id] = timer

    def _wrapup_timer(self, agent: Agent, since: float) -> None:
        if agent.state is AgentState.WRAPUP and agent.state_since == since:
            self._wrapup_over(agent)

    def _end_wrapup_event(self, agent: Agent) -> None:
        timer = self._wrapup_timers.pop(agent.id, None)
        if timer is not None:
            timer.cancel()
        self.events.queue_event(
            "WRAPUPEND", agent=agent.id, data=(self.clock.monotonic() - agent.state_since,)
        )

    def _wrapup_over(self, agent: Agent) -> None:
        self._end_wrapup_event(agent)
        self._agent_free(agent)

    def _agent_free(self, agent: Agent) -> None:
        agent.idle_since = self.clock.monotonic()
        if agent.pending_pause:
            reason, agent.pending_pause = agent.pending_pause, ""
            self._do_pause(agent, reason)
            return
        self._set_state(agent, AgentState.IDLE)
        self._dispatch()

    # ------------------------------------------------------------------ monitoring
    def completed_since(self, since: float) -> dict[str, int]:
        """Answered calls that ended since Unix time ``since``, per queue, from ``queue_log``."""
        db = self.events.db
        if db is None:
            return {}
        self.events.flush()
        rows = db.conn.execute(
            "SELECT queue, COUNT(*) FROM queue_log WHERE at >= ? AND event IN "
            "('COMPLETEAGENT','COMPLETECALLER','BLINDTRANSFER','ATTENDEDTRANSFER') GROUP BY queue",
            (since,),
        )
        return {queue: int(count) for queue, count in rows}

    def queue_status(self, since: float | None = None) -> list[dict[str, Any]]:
        """MON-2: calls waiting, longest wait, calls completed (since ``since``, default
        the start of the current UTC day) and agents by state, per queue."""
        now = self.clock.monotonic()
        if since is None:
            since = self.clock.time() // 86400 * 86400
        completed = self.completed_since(since)
        out = []
        for queue in self.queues.values():
            states = [a.state for a in queue.members]
            out.append(
                {
                    "queue": queue.name,
                    "strategy": queue.config.strategy,
                    "waiting": len(queue.waiting),
                    "completed": completed.get(queue.name, 0),
                    "longest_wait": max((now - e.enter_mono for e in queue.waiting), default=0.0),
                    "agents_idle": states.count(AgentState.IDLE),
                    "agents_busy": sum(
                        s in (AgentState.RINGING, AgentState.TALKING, AgentState.WRAPUP)
                        for s in states
                    ),
                    "agents_paused": states.count(AgentState.PAUSED),
                    "agents_logged_in": sum(s is not AgentState.LOGGED_OUT for s in states),
                }
            )
        return out

    def agent_status(self) -> list[dict[str, Any]]:
        """MON-3: each agent's state and time in state."""
        now = self.clock.monotonic()
        return [
            {
                "agent": a.id,
                "name": a.name,
                "state": a.state.value,
                "reason": a.pause_reason,
                "pending_pause": a.pending_pause,  # asked for during a call, taken after wrap-up
                "in_state": now - a.state_since if a.logged_in else 0.0,
                "device": a.active_device if a.logged_in else "",
                "queues": [q.name for q in self.agent_queues[a.id]],
                "calls": sum(q.memory.calls.get(a.id, 0) for q in self.agent_queues[a.id]),
                "talk": sum(q.memory.talk.get(a.id, 0.0) for q in self.agent_queues[a.id]),
            }
            for a in self.agents.values()
        ]


class AgentLeg:
    """Listener on an agent device being rung for a waiting call."""

    __slots__ = ("acd", "agent", "entry")

    def __init__(self, acd: Acd, entry: Entry, agent: Agent) -> None:
        self.acd = acd
        self.entry = entry
        self.agent = agent

    def on_digit(self, channel: Channel, digit: str) -> None:
        return

    def on_answered(self, channel: Channel) -> None:
        self.acd._agent_answered(self.entry, self.agent)

    def on_play_done(self, channel: Channel, prompt: str) -> None:
        return

    def on_hangup(self, channel: Channel, cause: int) -> None:
        self.acd._agent_leg_failed(self.entry, self.agent)


class Transferred:
    """A call handed to a consulted party after an attended transfer: ends with either side."""

    def __init__(self, calls: CallManager, call: Call, other: Channel) -> None:
        self.calls = calls
        self.call = call
        call.channel.set_listener(self)
        other.set_listener(self)

    def on_digit(self, channel: Channel, digit: str) -> None:
        return

    def on_answered(self, channel: Channel) -> None:
        return

    def on_play_done(self, channel: Channel, prompt: str) -> None:
        return

    def on_hangup(self, channel: Channel, cause: int) -> None:
        self.calls.end(self.call, "ANSWERED", cause)
