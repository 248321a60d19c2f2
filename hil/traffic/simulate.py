"""A day of call-center traffic in virtual time, through the real IVR and ACD.

Callers arrive as a Poisson process whose hourly rate follows a profile;
each navigates the IVR menu by DTMF, waits in a queue with a patience drawn
from an exponential distribution (or forever) and abandons when it runs
out. Agents answer after a drawn delay (or never, with some probability,
which exercises RONA), talk for a drawn handle time, take wrap-up, and take
pauses. Everything the core does is appended to the database; the figures
reported are computed from those rows by :mod:`appliance.stats`.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from appliance.acd.engine import AcdError
from appliance.runtime.clock import VirtualClock
from appliance.runtime.events import Event
from hil.traffic.center import SimCenter
from hil.traffic.switch import SimChannel, SimSwitch

HANDLE_DISTRIBUTIONS = ("exponential", "fixed", "lognormal", "uniform")


@dataclass
class TrafficParams:
    agents: int = 15
    calls_per_hour: float = 200.0
    handle_time: float = 180.0
    handle_time_dist: str = "exponential"
    patience: float = 120.0  # mean seconds; math.inf: callers never hang up
    hours: float = 8.0
    strategy: str = "rrmemory"
    sl_seconds: float = 20.0
    short_abandon: float = 5.0
    seed: int = 1
    profile: list[float] = field(default_factory=lambda: [1.0])  # hourly rate multipliers
    answer_delay: float = 3.0  # mean seconds from ringing to pick-up
    no_answer: float = 0.0  # probability an agent lets a call ring out
    ring_timeout: float = 15.0
    wrapup: float = 0.0
    rona_return: float = 30.0  # seconds a RONA-paused agent needs to come back
    pause_rate: float = 0.0  # pauses per agent per hour
    pause_length: float = 300.0
    menu_split: float = 1.0  # share of callers pressing 1 (sales); the rest press 2 (support)
    think_time: float = 1.5  # seconds between the end of the menu prompt and the key press
    queues: int = 1  # 1: one queue 'sales'; 2: 'sales' and 'support' chosen in the IVR

    def check(self) -> None:
        if self.agents < 1:
            raise ValueError("--agents must be at least 1")
        if self.calls_per_hour <= 0 or self.hours <= 0:
            raise ValueError("--calls-per-hour and --hours must be positive")
        if self.handle_time <= 0:
            raise ValueError("--handle-time must be positive")
        if self.handle_time_dist not in HANDLE_DISTRIBUTIONS:
            raise ValueError(f"--handle-time-dist must be one of {', '.join(HANDLE_DISTRIBUTIONS)}")
        if not self.patience > 0:
            raise ValueError("--patience must be positive or 'inf'")
        if not 0 <= self.no_answer < 1:
            raise ValueError("--no-answer is a probability below 1")
        if not self.profile or any(p < 0 for p in self.profile):
            raise ValueError("--profile needs non-negative hourly multipliers")
        if self.queues not in (1, 2):
            raise ValueError("--queues is 1 or 2")


def build_config(p: TrafficParams) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ACD and IVR configuration of the simulated site."""
    ids = [str(1001 + i) for i in range(p.agents)]
    names = ["sales", "support"][: p.queues]
    queue_common = {
        "strategy": p.strategy,
        "members": ids,
        "ring_timeout": p.ring_timeout,
        "wrapup": p.wrapup,
        "sl_seconds": p.sl_seconds,
        "join_empty": "always",
        "leave_empty": "never",
    }
    acd = {
        "agents": [{"id": a, "device": f"phone{a}"} for a in ids],
        "queues": [{"name": n, **queue_common} for n in names],
    }
    choices = {"1": "q-sales"} | ({"2": "q-support"} if p.queues == 2 else {})
    nodes: list[dict[str, Any]] = [
        {"name": "welcome", "type": "play", "prompt": "welcome", "next": "menu"},
        {
            "name": "menu",
            "type": "menu",
            "prompt": "main-menu",
            "choices": choices,
            "failure": "q-sales",
            "timeout": 5,
        },
        {"name": "q-sales", "type": "queue", "queue": "sales"},
    ]
    if p.queues == 2:
        nodes.append({"name": "q-support", "type": "queue", "queue": "support"})
    ivr = {
        "flows": [{"name": "main", "start": "welcome", "nodes": nodes}],
        "routes": [{"flow": "main"}],
    }
    return acd, ivr


class SimCaller(SimChannel):
    """A caller who keys a menu choice and has limited patience in the queue."""

    def __init__(self, sim: Traffic, switch: SimSwitch, name: str, caller: str) -> None:
        super().__init__(switch, name, caller=caller, dnis="100", trunk="span1")
        self.sim = sim
        self.choice = "1" if sim.rng.random() < sim.p.menu_split else "2"
        self.patience_timer: Any = None
        self.waiting = False

    def play(self, prompt: str, *, loop: bool = False) -> None:
        super().play(prompt, loop=loop)
        clock = self.switch.clock
        if prompt == "main-menu":
            delay = self.switch.prompt_length(prompt) + self.sim.rng.expovariate(
                1 / self.sim.p.think_time
            )
            clock.call_later(delay, self.press, self.choice)
        elif prompt == "moh" and not self.waiting and self.bridged_with is None:
            self.waiting = True
            if math.isfinite(self.sim.p.patience):
                patience = self.sim.rng.expovariate(1 / self.sim.p.patience)
                self.patience_timer = clock.call_later(patience, self.give_up)

    def give_up(self) -> None:
        if self.bridged_with is None and not self.hung_up:
            self.far_hangup()


class Traffic:
    """One simulation run."""

    def __init__(self, p: TrafficParams, db: str = ":memory:") -> None:
        p.check()
        self.p = p
        self.rng = random.Random(p.seed)
        acd, ivr = build_config(p)
        self.clock = VirtualClock()
        self.center = SimCenter(acd, ivr, db=db, clock=self.clock, seed=p.seed, batch=5000)
        self.switch = self.center.switch
        self.switch.prompt_seconds.update({"welcome": 4.0, "main-menu": 6.0})
        for agent in self.center.acd.agents.values():
            self.switch.devices[agent.device] = self._agent_rings
        self.center.bus.listen("agent.state", self._agent_state)
        self.end = p.hours * 3600.0
        self.calls = 0
        self.callers = 0

    # -- agents ------------------------------------------------------------------
    def _agent_rings(self, leg: SimChannel) -> None:
        if self.rng.random() < self.p.no_answer:
            return  # lets it ring out: RONA
        delay = self.rng.expovariate(1 / self.p.answer_delay) if self.p.answer_delay > 0 else 0.0
        self.clock.call_later(delay, self._agent_answers, leg)

    def _agent_answers(self, leg: SimChannel) -> None:
        if leg.hung_up:
            return
        leg.far_answer()
        if leg.answered and not leg.hung_up:
            self.clock.call_later(self.handle_time(), leg.far_hangup)

    def handle_time(self) -> float:
        mean, dist = self.p.handle_time, self.p.handle_time_dist
        if dist == "fixed":
            return mean
        if dist == "uniform":
            return self.rng.uniform(0, 2 * mean)
        if dist == "lognormal":  # coefficient of variation 1, like the exponential
            sigma = math.sqrt(math.log(2))
            return self.rng.lognormvariate(math.log(mean) - sigma * sigma / 2, sigma)
        return self.rng.expovariate(1 / mean)

    def _agent_state(self, event: Event) -> None:
        if event.data["state"] == "paused" and event.data["reason"] == "rona":
            self.clock.call_later(self.p.rona_return, self._unpause, event.data["agent"])

    def _unpause(self, agent: str) -> None:
        try:
            self.center.acd.unpause(agent)
        except AcdError:
            return  # already back (or paused for another reason that the agent ends itself)

    def _schedule_pause(self, agent: str) -> None:
        gap = self.rng.expovariate(self.p.pause_rate / 3600.0)
        if self.clock.monotonic() + gap < self.end:
            self.clock.call_later(gap, self._take_pause, agent)

    def _take_pause(self, agent: str) -> None:
        try:
            self.center.acd.pause(agent, "break")
        except AcdError:
            pass  # already paused (RONA): this break is skipped
        else:
            self.clock.call_later(self.p.pause_length, self._unpause, agent)
        self._schedule_pause(agent)

    # -- callers -----------------------------------------------------------------
    def _rate(self, t: float) -> float:
        profile = self.p.profile
        return self.p.calls_per_hour * profile[int(t // 3600) % len(profile)] / 3600.0

    def _next_arrival(self, t: float) -> float:
        """Piecewise-constant-rate Poisson process: memoryless within each hour."""
        while t < self.end:
            rate = self._rate(t)
            boundary = (math.floor(t / 3600) + 1) * 3600
            if rate > 0:
                nxt = t + self.rng.expovariate(rate)
                if nxt < boundary:
                    return nxt
            t = boundary
        return math.inf

    def _arrive(self) -> None:
        self.callers += 1
        number = f"0{self.rng.randrange(20, 99)}{self.rng.randrange(10**6, 10**7)}"
        channel = SimCaller(self, self.switch, f"span1/{self.callers}", number)
        self.center.ivr.incoming(channel)
        nxt = self._next_arrival(self.clock.monotonic())
        if nxt < self.end:
            self.clock.call_at(nxt, self._arrive)

    def run(self) -> dict[str, Any]:
        cpu0 = time.process_time()
        acd = self.center.acd
        for agent in acd.agents:
            acd.login(agent)
            if self.p.pause_rate > 0:
                self._schedule_pause(agent)
        first = self._next_arrival(0.0)
        if first < self.end:
            self.clock.call_at(first, self._arrive)
        self.clock.run_until(self.end)
        # let the calls still in the system finish (no new arrivals, pauses end)
        self.clock.run_all(limit=self.end + 24 * 3600)
        self.center.events.flush()
        cpu = time.process_time() - cpu0
        return self.report(cpu)

    def report(self, cpu: float) -> dict[str, Any]:
        from appliance.stats import queue_stats

        start = self.clock.time() - self.clock.monotonic()
        assert self.center.db is not None
        names = list(self.center.acd.queues)
        figures = queue_stats(
            self.center.db.conn,
            start,
            start + self.end,
            names,
            sl_seconds=self.p.sl_seconds,
            short_abandon=self.p.short_abandon,
        )
        return {
            "parameters": {k: (None if v == math.inf else v) for k, v in asdict(self.p).items()},
            "callers": self.callers,
            "virtual_seconds": self.clock.monotonic(),
            "cpu_seconds": cpu,
            "calls_per_cpu_second": self.callers / cpu if cpu > 0 else None,
            "queues": {name: f.as_dict() for name, f in figures.items()},
        }


def simulate(p: TrafficParams, db: str = ":memory:") -> dict[str, Any]:
    return Traffic(p, db).run()


__all__ = ["TrafficParams", "simulate"]
