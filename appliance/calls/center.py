"""The call-center core assembled: what telephonyd builds once per configuration.

``CallCenter`` wires the event log, the call manager, the ACD and the IVR to
one technology (a :class:`~appliance.calls.channel.Switch`) and one clock.
The daemon passes real channels to :meth:`CallCenter.incoming` and FXS
feature codes to :meth:`CallCenter.feature_code`; ``hil traffic`` does the
same with simulated channels in virtual time.
"""

from __future__ import annotations

import random

import sqlite_utils

from appliance.acd.control import register_acd_methods
from appliance.acd.engine import Acd, AcdChanges, DeviceDirectory
from appliance.acd.features import FeatureResult, agent_at, feature_code
from appliance.calls.channel import Channel, Switch
from appliance.calls.eventlog import EventLog
from appliance.calls.model import Call, CallManager
from appliance.calls.originate import PhoneCall, PlacedCall
from appliance.config.sections.acd import AcdSection
from appliance.config.sections.ivr import IvrSection
from appliance.ivr.engine import Ivr, IvrPlan, Lookup
from appliance.runtime.clock import Clock
from appliance.runtime.control import ControlServer
from appliance.runtime.events import EventBus
from appliance.store.writer import DatabaseWriter


class CallCenter:
    """Calls, ACD and IVR on one switch, clock, database and event bus."""

    def __init__(
        self,
        acd: AcdSection,
        ivr: IvrSection,
        *,
        clock: Clock,
        switch: Switch,
        db: sqlite_utils.Database | None,
        bus: EventBus,
        lookup: Lookup | None = None,
        rng: random.Random | None = None,
        batch: int = 1,
        devices: DeviceDirectory | None = None,
        writer: DatabaseWriter | None = None,
    ) -> None:
        self.clock = clock
        self.bus = bus
        self.db = db
        self.switch = switch
        self.events = EventLog(db, clock, bus, batch=batch, writer=writer)
        self.calls = CallManager(clock, switch, self.events, bus)
        self.acd = Acd(acd, clock, self.calls, self.events, rng=rng, devices=devices)
        self.ivr = Ivr(ivr, clock, self.calls, self.acd, self.events, lookup=lookup)

    def reconfigure(self, acd: AcdSection, ivr: IvrSection) -> AcdChanges:
        """New ``[acd]`` and ``[ivr]`` on the running center, both or neither: the flows are
        validated against the new queues before the ACD changes (AcdError, IvrError)."""
        plan = IvrPlan.build(ivr, {q.name: q for q in acd.queues})
        changes = self.acd.reconfigure(acd)
        self.ivr.reconfigure(plan)
        return changes

    def incoming(self, channel: Channel) -> Call:
        """A new inbound channel (SETUP on a span, ring on an FXO line, SIP INVITE)."""
        return self.ivr.incoming(channel)

    def feature_code(self, device: str, digits: str) -> FeatureResult:
        """Digits dialled on an agent phone that start with a feature code."""
        return feature_code(self.acd, device, digits)

    def dialled(self, phone: Channel, destination: str) -> PhoneCall:
        """A number keyed on one of our phones (``TechnologyRegistry.dialled``): an outbound
        call of the call model, under the agent logged in at that phone (if any)."""
        agent_id = agent_at(self.acd, phone.name)
        agent = self.acd.agents[agent_id] if agent_id is not None else None
        return PhoneCall(self.calls, phone, destination, destination.removeprefix("external:"),
                         agent=agent.id if agent else "", agent_name=agent.name if agent else "")

    def recall(self, leg: Channel, action: str, destination: str = "") -> str:
        """A hook flash during a call (``TechnologyRegistry.recall``): the agent's queue call
        (the ACD's consultation), or a call placed from one of our phones (the PBX
        consultation of PlacedCall); '' when neither takes it."""
        answer = self.acd.recall(leg, action, destination)
        if not answer and isinstance(leg.listener, PlacedCall):
            answer = leg.listener.recall(leg, action, destination)
        return answer

    def register(self, server: ControlServer) -> None:
        """The ACD's control-socket methods (docs/acd.md)."""
        register_acd_methods(server, self.acd)

    def flush(self) -> None:
        self.events.flush()
