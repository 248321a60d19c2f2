"""A complete call-center core on simulated channels: the real CallManager, ACD and IVR.

Used by ``hil traffic``, the benchmarks and the tests: it wires the same
classes the daemon uses to a :class:`SimSwitch` and a :class:`VirtualClock`.
"""

from __future__ import annotations

import random
from typing import Any

import sqlite_utils

from appliance.acd.engine import QueueExit
from appliance.calls.center import CallCenter
from appliance.calls.model import Call
from appliance.config.sections.acd import AcdSection
from appliance.config.sections.ivr import IvrSection
from appliance.config.validate import Problem, build
from appliance.runtime.clock import VirtualClock
from appliance.runtime.events import EventBus
from appliance.store import open_database
from hil.traffic.switch import SimChannel, SimSwitch


class ConfigError(ValueError):
    pass


def section(cls: Any, data: dict[str, Any], name: str) -> Any:
    problems: list[Problem] = []
    obj = build(cls, data, (name,), problems)
    if problems:
        raise ConfigError("; ".join(f"{'.'.join(map(str, p.path))}: {p.message}" for p in problems))
    return obj


class SimCenter(CallCenter):
    """The real CallCenter on a SimSwitch, in virtual time."""

    switch: SimSwitch

    def __init__(
        self,
        acd: dict[str, Any] | AcdSection,
        ivr: dict[str, Any] | IvrSection | None = None,
        *,
        db: sqlite_utils.Database | str | None = ":memory:",
        clock: VirtualClock | None = None,
        seed: int = 1,
        batch: int = 1,
    ) -> None:
        self.clock = clock or VirtualClock()
        acd_cfg = acd if isinstance(acd, AcdSection) else section(AcdSection, acd, "acd")
        ivr_cfg = ivr if isinstance(ivr, IvrSection) else section(IvrSection, ivr or {}, "ivr")
        super().__init__(
            acd_cfg,
            ivr_cfg,
            clock=self.clock,
            switch=SimSwitch(self.clock),
            db=open_database(db) if isinstance(db, str) else db,
            bus=EventBus(self.clock.time),
            rng=random.Random(seed),
            batch=batch,
        )
        self.exits: dict[str, list[QueueExit]] = {}

    # -- test and simulator helpers --------------------------------------------
    def inbound_call(
        self, caller: str, dnis: str = "100", trunk: str = "span1"
    ) -> tuple[Call, SimChannel]:
        channel = self.switch.inbound(caller, dnis, trunk)
        call = self.calls.new_call(channel)
        return call, channel

    def queue_call(
        self,
        queue: str,
        caller: str = "0301234567",
        *,
        vip: bool = False,
        priority: int = 0,
        skills: dict[str, int] | None = None,
    ) -> tuple[Call, SimChannel]:
        """A call straight into a queue (no IVR); its exits are kept in ``exits``."""
        call, channel = self.inbound_call(caller)
        call.vip = vip
        call.priority = priority
        call.skills = dict(skills or {})
        self.calls.answer(call)
        self.acd.enqueue(call, queue, self._record_exit)
        return call, channel

    def _record_exit(self, call: Call, result: QueueExit) -> None:
        self.exits.setdefault(call.call_id, []).append(result)
        if result.caller_present:
            self.calls.end(call, "ANSWERED" if result.kind == "completed_agent" else "")

    def auto_answer(self, device: str, after: float = 1.0) -> None:
        """The phone at ``device`` is picked up ``after`` seconds after it starts ringing."""
        self.switch.devices[device] = lambda ch: self.clock.call_later(after, ch.far_answer)

    def queue_log(self, event: str | None = None) -> list[dict[str, Any]]:
        self.events.flush()
        assert self.db is not None
        if event is None:
            return list(self.db.query("SELECT * FROM queue_log ORDER BY id"))
        return list(self.db.query("SELECT * FROM queue_log WHERE event = ? ORDER BY id", [event]))
