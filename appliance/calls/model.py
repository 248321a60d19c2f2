"""Calls, bridges and holds: the call model every application works on.

A :class:`Call` is one customer's call through the box: its inbound (or
outbound) leg, any legs added later (agent, consultation, forward), the
bridge joining them, hold state and the facts the CDR needs. The
:class:`CallManager` owns the live calls; each change is published on the
event bus (topics ``call.*``) and the CDR is appended to the database when the
call ends (docs/database.md ``cdr``).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from appliance.calls.channel import CAUSE_NORMAL_CLEARING, Bridge, Channel, Switch
from appliance.calls.eventlog import EventLog
from appliance.calls.tollguard import ClassOfService
from appliance.runtime.clock import Clock
from appliance.runtime.events import EventBus

log = logging.getLogger("appliance.calls")


class CallError(Exception):
    """A call-control request that cannot be carried out in the call's state."""


@dataclass(eq=False)
class Call:
    call_id: str
    channel: Channel
    direction: str = "inbound"
    start: float = 0.0  # wall clock (records)
    start_mono: float = 0.0
    answer: float | None = None
    legs: list[Channel] = field(default_factory=list)
    bridge: Bridge | None = None
    on_hold: bool = False
    hold_since: float = 0.0
    queue: str = ""
    agent: str = ""
    ivr_path: list[str] = field(default_factory=list)
    satisfaction: int | None = None
    resolved: int | None = None
    disposition: str = ""
    cause: int = CAUSE_NORMAL_CLEARING
    priority: int = 0
    vip: bool = False
    skills: dict[str, int] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)
    caller_name: str = ""
    presentation: str = "allowed"
    ended: bool = False
    # set when the box places the call (click-to-dial), whose first leg rings our own
    # phone: who calls whom, and the trunk the outside leg went out on
    origin_number: str = ""
    target_number: str = ""
    outbound_trunk: str = ""

    @property
    def caller(self) -> str:
        return self.origin_number or self.channel.caller

    @property
    def dnis(self) -> str:
        return self.target_number or self.channel.dnis

    @property
    def trunk(self) -> str:
        return self.outbound_trunk or self.channel.trunk


class CallManager:
    """Creates, bridges, holds and ends calls; writes the CDR of each."""

    def __init__(
        self, clock: Clock, switch: Switch, events: EventLog, bus: EventBus | None = None
    ) -> None:
        self.clock = clock
        self.switch = switch
        self.events = events
        self.bus = bus
        self.calls: dict[str, Call] = {}
        #: who may call which outside number (SEC-4); the daemon sets it from [calls]
        self.toll = ClassOfService()
        self._ids = itertools.count(1)
        self._prefix = f"{int(clock.time())}"

    def _journal(self, call: Call) -> None:
        """Journal the call in progress (``live_calls``) for crash recovery (calls/recovery.py)."""
        self.events.journal_call({
            "call_id": call.call_id, "direction": call.direction, "trunk": call.trunk,
            "channel": call.channel.name, "legs": ",".join(leg.name for leg in call.legs),
            "caller": call.caller, "callee": call.dnis, "queue": call.queue, "agent": call.agent,
            "start": call.start, "answer": call.answer, "updated": self.clock.time(),
        })

    def _publish(self, topic: str, call: Call, **data: Any) -> None:
        if self.bus is not None:
            self.bus.publish(topic, call_id=call.call_id, **data)

    def new_call(self, channel: Channel, direction: str = "inbound") -> Call:
        """Register a new call for ``channel`` (first signal seen)."""
        call_id = f"{self._prefix}-{next(self._ids)}"
        call = Call(
            call_id,
            channel,
            direction=direction,
            start=self.clock.time(),
            start_mono=self.clock.monotonic(),
            legs=[channel],
        )
        channel.call_id = call_id
        self.calls[call_id] = call
        self._journal(call)
        self._publish(
            "call.new",
            call,
            caller=channel.caller,
            dnis=channel.dnis,
            trunk=channel.trunk,
            channel=channel.name,
        )
        return call

    def answer(self, call: Call) -> None:
        if call.answer is None:
            call.channel.answer()
            call.answer = self.clock.time()
            self._journal(call)
            self._publish("call.answer", call)

    def add_leg(self, call: Call, channel: Channel) -> None:
        call.legs.append(channel)
        channel.call_id = call.call_id
        self._journal(call)
        self._publish("call.leg", call, channel=channel.name)

    def drop_leg(self, call: Call, channel: Channel, cause: int = CAUSE_NORMAL_CLEARING) -> None:
        """Release one leg (not the customer's) and take it out of any bridge."""
        if channel is call.channel:
            raise CallError(f"call {call.call_id}: use end() to release the caller's leg")
        if call.bridge is not None and channel in call.bridge.channels:
            call.bridge.remove(channel)
        channel.hangup(cause)
        if channel in call.legs:
            call.legs.remove(channel)
        self._publish("call.leg_end", call, channel=channel.name, cause=cause)

    def connect(self, call: Call, channels: Sequence[Channel]) -> Bridge:
        """Bridge ``channels`` (two: a bridge; three or more: a three-way/conference)."""
        if call.bridge is not None:
            call.bridge.destroy()
        for ch in channels:
            ch.stop_play()
        call.bridge = self.switch.bridge(list(channels))
        self._journal(call)
        self._publish("call.bridge", call, channels=[c.name for c in channels])
        return call.bridge

    def hold(self, call: Call) -> None:
        """Take the caller out of the bridge and play music on hold."""
        if call.on_hold:
            raise CallError(f"call {call.call_id} is already on hold")
        if call.bridge is not None and call.channel in call.bridge.channels:
            call.bridge.remove(call.channel)
        call.channel.hold()
        call.on_hold = True
        call.hold_since = self.clock.monotonic()
        self._publish("call.hold", call)

    def unhold(self, call: Call, with_channels: Sequence[Channel]) -> float:
        """Return the caller to a bridge with ``with_channels``; returns the hold seconds."""
        if not call.on_hold:
            raise CallError(f"call {call.call_id} is not on hold")
        call.channel.retrieve()
        call.on_hold = False
        self.connect(call, [call.channel, *with_channels])
        held = self.clock.monotonic() - call.hold_since
        self._publish("call.unhold", call, hold=held)
        return held

    def hangup(self, call: Call, cause: int = CAUSE_NORMAL_CLEARING) -> None:
        """A supervisor's hang-up (``calls.hangup``): clear the caller's leg and let
        whoever holds the call hear it as the caller hanging up.

        The IVR, the ACD (COMPLETECALLER, agent into wrap-up), click-to-dial and
        an attended transfer then end the call through their own path, so the
        queue log, the CDR and the recording close exactly as for a caller's
        hang-up; a call nobody holds is ended here.
        """
        channel = call.channel
        listener = channel.listener
        if not channel.hung_up:
            channel.hangup(cause)
            if listener is not None:
                listener.on_hangup(channel, cause)
        self.end(call, cause=cause)

    def end(self, call: Call, disposition: str = "", cause: int = CAUSE_NORMAL_CLEARING) -> None:
        """Release every leg, write the CDR and forget the call (safe twice)."""
        if call.ended:
            return
        call.ended = True
        call.cause = cause
        if disposition:
            call.disposition = disposition
        if call.bridge is not None:
            call.bridge.destroy()
            call.bridge = None
        for leg in list(call.legs):
            leg.hangup(cause)
        end = self.clock.time()
        disp = call.disposition or ("ANSWERED" if call.answer is not None else "NO ANSWER")
        self.events.cdr(
            {
                "call_id": call.call_id,
                "direction": call.direction,
                "trunk": call.trunk,
                "channel": call.channel.name,
                "caller": call.caller,
                "caller_name": call.caller_name,
                "presentation": call.presentation,
                "callee": call.dnis,
                "start": call.start,
                "answer": call.answer,
                "end": end,
                "duration": end - call.start,
                "billsec": end - call.answer if call.answer is not None else 0.0,
                "disposition": disp,
                "cause": cause,
                "queue": call.queue,
                "agent": call.agent,
                "ivr_path": ">".join(call.ivr_path),
                "satisfaction": call.satisfaction,
                "resolved": call.resolved,
            }
        )
        self.events.journal_end(call.call_id)
        self.calls.pop(call.call_id, None)
        self._publish("call.end", call, disposition=disp, cause=cause)
