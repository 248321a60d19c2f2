"""The call-center core inside appliance-telephonyd (IVR, ACD, calls) on the real channels.

The component owns the channel-technology table
(:class:`~appliance.calls.technology.TechnologyRegistry`); each technology's
own component registers with it (telephonyd assembles them), so this module
imports none. Inbound legs of any technology are handed to the IVR; agents
are rung on whatever device they are logged in at; feature codes keyed on a
phone log agents in and out. Serves the monitoring and control methods of
docs/control-protocol.md (``calls.*``, ``queues.list``, ``agents.*``) and the
ACD's own (docs/acd.md).
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from appliance.acd.engine import AcdError
from appliance.calls.center import CallCenter
from appliance.calls.channel import CAUSE_NO_CIRCUIT_AVAILABLE, Channel
from appliance.calls.model import Call, CallError
from appliance.calls.monitor import MODES, MonitorError, Monitors
from appliance.calls.originate import ClickToDial
from appliance.calls.outbound import OutboundRoute
from appliance.calls.recovery import recover_interrupted_calls
from appliance.calls.technology import TechnologyRegistry
from appliance.calls.telephony import TelephonySwitch
from appliance.calls.tollguard import ClassOfService
from appliance.config import ApplianceConfig
from appliance.ivr.engine import IvrError
from appliance.ivr.lookup import HttpLookup
from appliance.media.component import MediaComponent
from appliance.media.prompts import Prompt, PromptError, load_prompt
from appliance.runtime.control import ControlError
from appliance.runtime.service import Component, Service
from appliance.store.writer import DatabaseWriter

log = logging.getLogger("appliance.calls")

E164_MAX_DIGITS = 15  # ITU-T E.164 §6: at most 15 digits, country code included


class PromptLibrary:
    """Prompts by name: ``PROMPTS_DIR/NAME.wav``, every one loaded and converted at start.

    :meth:`load` reads the folder (in a worker thread: prompts are files) so that
    playing is a dictionary lookup on the loop, never file I/O in the tick. Only
    files found in the folder are playable: a name such as ``../../x`` from a
    configuration or a request is simply not there.
    """

    def __init__(self, directory: str, prompts: dict[str, Prompt] | None = None) -> None:
        self.directory = directory
        self._prompts = prompts or {}

    @classmethod
    def load(cls, directory: str) -> PromptLibrary:
        prompts: dict[str, Prompt] = {}
        try:
            names = sorted(os.listdir(directory))
        except OSError as exc:
            log.error("prompts folder %s unreadable: %s; no prompts", directory, exc.strerror)
            names = []
        for entry in names:
            name, ext = os.path.splitext(entry)
            if ext != ".wav":
                continue
            path = os.path.join(directory, entry)
            try:
                prompts[name] = load_prompt(path)
            except PromptError as exc:
                log.error("prompt %s refused: %s", path, exc, extra={"prompt": name})
        log.info("%d prompt(s) loaded from %s", len(prompts), directory)
        return cls(directory, prompts)

    def __call__(self, name: str) -> Prompt | None:
        return self._prompts.get(name)

    @property
    def names(self) -> list[str]:
        return sorted(self._prompts)


class CallCenterComponent(Component):
    name = "callcenter"

    def __init__(self, media: MediaComponent, technologies: TechnologyRegistry) -> None:
        self._media = media
        self.technologies = technologies
        self.center: CallCenter | None = None
        self.switch: TelephonySwitch | None = None
        self.writer: DatabaseWriter | None = None  # the service's: call records commit off the loop
        self.draining = False
        self.monitors: Monitors | None = None

    async def _recover(self, service: Service) -> None:
        """Close the calls a killed predecessor left journaled, before taking calls."""
        if service.db is None:
            return
        closed = await asyncio.to_thread(recover_interrupted_calls, service.db.conn)
        if closed:
            log.warning("%d call(s) interrupted by an unclean stop closed", len(closed))
            service.record_service_event("calls_interrupted", {
                "calls": [{"call_id": c.call_id, "end": c.end, "queue_event": c.queue_event,
                           "agent": c.agent} for c in closed]})

    async def start(self, service: Service) -> None:
        engine = self._media.engine
        assert engine is not None, "the media component starts first"
        self.technologies.prompts = await asyncio.to_thread(
            PromptLibrary.load, service.config.media.prompts_dir)
        outbound = OutboundRoute(self.technologies, service.clock,
                                 service.config.calls.outbound_trunks)
        outbound.meter.on_alarm = lambda raised, minutes, threshold: service.bus.publish(
            "calls.toll_alarm", raised=raised, minutes=round(minutes, 1), threshold=threshold)
        self.switch = TelephonySwitch(engine, self.technologies, outbound)
        self.center = CallCenter(
            service.config.acd,
            service.config.ivr,
            clock=service.clock,
            switch=self.switch,
            db=service.db,
            bus=service.bus,
            devices=self.switch.device_name,  # agents log in only on a phone the box has
            lookup=HttpLookup(),  # the IVR lookup node's GET, in a worker thread (IVR-6)
            writer=service.writer,  # queue_log, CDR, IVR visits and live_calls (store/writer.py)
        )
        self.writer = service.writer
        self._apply_toll_guards(service.config)
        self.monitors = Monitors(self.center.calls, engine, service.bus)
        await self._recover(service)
        self.technologies.on_inbound = self._inbound
        self.technologies.on_feature = self._feature
        self.technologies.on_recall = self._recall  # hook flash on one of our phones
        self.technologies.on_dialled = self._dialled
        self.center.register(service.control)
        for method, handler, needs in (
            ("calls.list", self._calls_list, "calls.read"),
            ("calls.hangup", self._calls_hangup, "calls.control"),
            ("calls.originate", self._calls_originate, "calls.control"),
            ("calls.monitor", self._calls_monitor, "calls.control"),
            ("queues.list", self._queues_list, "queues.read"),
            ("agents.list", self._agents_list, "agents.read"),
            ("agents.login", self._agent_action("login"), "agents.control"),
            ("agents.logout", self._agent_action("logout"), "agents.control"),
            ("agents.pause", self._agent_action("pause"), "agents.control"),
            ("agents.unpause", self._agent_action("unpause"), "agents.control"),
        ):
            service.control.register(method, handler, needs=needs)

    # queues, agents, flows, the outbound route and its guards change under live calls
    live_keys = frozenset({"acd", "ivr", "calls"})

    async def reconfigure(self, config: ApplianceConfig) -> None:
        if self.center is None or self.switch is None:
            return
        try:
            changes = self.center.reconfigure(config.acd, config.ivr)
        except (AcdError, IvrError) as exc:  # validated already; kept as a last guard
            raise ControlError("config-invalid", f"[acd]/[ivr] not applied: {exc}") from exc
        self.switch.outbound.order = tuple(config.calls.outbound_trunks)
        self._apply_toll_guards(config)
        log.info("call center reconfigured: %s", changes.summary())

    def _apply_toll_guards(self, config: ApplianceConfig) -> None:
        """``[calls]``'s toll-fraud guards (SEC-4, appliance/calls/tollguard.py): the class
        of service for the numbers people choose, the trunks' classes, the ceiling on
        outside calls and the minutes alarm; the calls up keep going."""
        assert self.center is not None and self.switch is not None
        policy = ClassOfService.from_config(config.calls, self.switch.device_name)
        self.center.calls.toll = policy
        outbound = self.switch.outbound
        outbound.policy = policy
        outbound.max_calls = config.calls.max_outbound_calls
        outbound.meter.threshold = config.calls.outbound_minutes_alarm

    def _inbound(self, leg: Channel) -> None:
        if self.draining:
            leg.hangup(CAUSE_NO_CIRCUIT_AVAILABLE)  # power is going
            return
        assert self.center is not None
        self.center.incoming(leg)

    def _recall(self, leg: Channel, action: str, destination: str) -> str:
        assert self.center is not None
        return self.center.recall(leg, action, destination)

    def _dialled(self, phone: Channel, destination: str) -> None:
        if self.draining:
            phone.hangup(CAUSE_NO_CIRCUIT_AVAILABLE)  # power is going
            return
        assert self.center is not None
        self.center.dialled(phone, destination)

    def _feature(self, device: str, digits: str) -> bool:
        assert self.center is not None
        return self.center.feature_code(device, digits).ok

    async def stop(self) -> None:
        self.technologies.on_inbound = None
        self.technologies.on_feature = None
        self.technologies.on_recall = None
        self.technologies.on_dialled = None
        if self.center is not None:
            self.center.flush()
        if self.writer is not None:
            await asyncio.to_thread(self.writer.flush)  # the service stops it
            self.writer = None

    async def prepare_shutdown(self) -> dict[str, int]:
        self.draining = True
        if self.center is not None:
            self.center.flush()
        if self.writer is not None:
            await asyncio.to_thread(self.writer.flush)
        return {}

    async def resume(self) -> None:
        self.draining = False

    def status(self) -> dict[str, Any]:
        if self.center is None:
            return {}
        outbound = self.switch.outbound.meter.status() if self.switch is not None else {}
        return {"calls": len(self.center.calls.calls), "draining": self.draining,
                "outbound": outbound}

    # -- monitoring and control (docs/control-protocol.md) ---------------------------
    async def _calls_list(self, params: dict[str, Any]) -> dict[str, Any]:
        assert self.center is not None
        now_mono, now = self.center.clock.monotonic(), self.center.clock.time()
        rows = []
        for call in self.center.calls.calls.values():
            channel = call.channel
            rows.append(
                {
                    "call_id": call.call_id,
                    "direction": call.direction,
                    "channel": channel.name,
                    "trunk": call.trunk,
                    "caller": call.caller,
                    "callee": call.dnis,
                    "state": self._call_state(call),
                    "started": now - (now_mono - call.start_mono),
                    "queue": call.queue or None,
                    "agent": call.agent or None,
                    "agent_name": self.center.acd.agent_name(call.agent) or None,
                    "technology": self.technologies.name_of(channel),
                    "supervisors": [m.as_dict() for m in self.monitors.of(call.call_id)]
                    if self.monitors else [],
                }
            )
        return {"calls": rows}

    def _call_state(self, call: Call) -> str:
        """Where the call is now. ``queue`` and ``agent`` are what the CDR keeps (the queue
        it went through, the agent who took it): after a transfer back into the IVR they
        still name them, so the state asks the ACD and the IVR instead."""
        assert self.center is not None
        if call.on_hold:
            return "held"
        if call.bridge is not None:
            return "talking"
        if self.center.acd.waiting_in(call.call_id) is not None:
            return "queued"
        if call.call_id in self.center.ivr.runs:
            return "ivr"
        return "connecting"  # ringing a phone or a number (click-to-dial, forward)

    async def _calls_monitor(self, params: dict[str, Any]) -> dict[str, Any]:
        """Ring ``device`` and join call ``call_id`` as a supervisor in ``mode`` (ACD-5)."""
        assert self.monitors is not None and self.switch is not None
        call_id, device, mode = params.get("call_id"), params.get("device"), \
            params.get("mode", "listen")
        if not isinstance(call_id, str) or not isinstance(device, str) or not device:
            raise ControlError("bad-params", "'call_id' and 'device' (the supervisor's phone) "
                                             "are required")
        if mode not in MODES:
            raise ControlError("bad-params", f"'mode' must be one of {', '.join(MODES)}")
        phone = self.switch.device_name(device)
        if phone is None:
            raise ControlError("not-found", f"no phone or device {device!r} to ring")
        try:
            monitor = self.monitors.start(call_id, phone, mode)
        except MonitorError as exc:
            raise ControlError("refused", str(exc)) from exc
        except ValueError as exc:  # the device could not be rung (busy, out of service)
            raise ControlError("refused", f"{device}: {exc}") from exc
        return monitor.as_dict()

    async def _calls_hangup(self, params: dict[str, Any]) -> dict[str, Any]:
        assert self.center is not None
        call_id, cause = params.get("call_id"), params.get("cause", 16)
        if not isinstance(cause, int) or isinstance(cause, bool) or not 1 <= cause <= 127:
            raise ControlError("bad-params", "'cause' must be a Q.850 cause value 1-127")
        call = self.center.calls.calls.get(call_id) if isinstance(call_id, str) else None
        if call is None:
            raise ControlError("not-found", f"no call {call_id!r} up")
        self.center.calls.hangup(call, cause)
        return {"hungup": call_id}

    async def _calls_originate(self, params: dict[str, Any]) -> dict[str, Any]:
        assert self.center is not None
        source, number = params.get("from"), params.get("to")
        if not isinstance(source, str) or not source:
            raise ControlError("bad-params", "'from' (an agent id or an FXS phone) is required")
        if not isinstance(number, str) or not number or \
                not all(ch.isdigit() or ch in "*#" for ch in number.removeprefix("+")):
            raise ControlError("bad-params", "'to' must be a number: digits, '*', '#', leading '+'")
        if len(number.removeprefix("+")) > E164_MAX_DIGITS:
            raise ControlError("bad-params", f"'to' {number!r} has {len(number.lstrip('+'))} "
                               f"digits; a number has at most {E164_MAX_DIGITS} (ITU-T E.164 §6)")
        agents = {a.id: a for a in self.center.acd.config.agents}
        agent = agents.get(source)
        device = (self.center.acd.agents[source].active_device or agent.device) if agent else source
        switch = self.switch
        assert switch is not None
        if not switch.reaches(device):
            raise ControlError("not-found", f"{source!r} is neither an agent with a phone nor an "
                               "FXS phone or other device; click-to-dial rings the caller's own "
                               "phone first")
        target = number if switch.reaches(number) else f"external:{number}"
        try:
            placed = ClickToDial(self.center.calls, device, target, number,
                                 agent=agent.id if agent else "",
                                 agent_name=agent.name if agent else "")
        except ValueError as exc:
            raise ControlError("refused", str(exc)) from exc
        return {"call_id": placed.call.call_id, "state": "ringing", "from": source, "to": number}

    async def _queues_list(self, params: dict[str, Any]) -> dict[str, Any]:
        assert self.center is not None
        rows = self.center.acd.queue_status()
        now = self.center.clock.time()
        day = now - now % 86400  # since UTC midnight, as acd.queue_status counts 'completed'
        abandoned: dict[str, int] = {}
        if self.center.db is not None:
            for queue, count in self.center.db.conn.execute(
                "SELECT queue, count(*) FROM queue_log WHERE event = 'ABANDON' AND at >= ? "
                "GROUP BY queue",
                (day,),
            ):
                abandoned[queue] = count
        return {
            "queues": [
                {
                    **row,
                    "name": row["queue"],
                    "answered": row["completed"],
                    "abandoned": abandoned.get(row["queue"], 0),
                }
                for row in rows
            ]
        }

    async def _agents_list(self, params: dict[str, Any]) -> dict[str, Any]:
        assert self.center is not None
        now = self.center.clock.time()
        return {
            "agents": [
                {
                    **row,
                    "name": row["agent"],
                    "display_name": row["name"],
                    "since": now - row["in_state"],
                    "device": row["device"] or None,
                }
                for row in self.center.acd.agent_status()
            ]
        }

    def _agent_action(self, action: str) -> Any:
        async def handler(params: dict[str, Any]) -> dict[str, Any]:
            assert self.center is not None
            agent = params.get("agent")
            if not isinstance(agent, str) or not agent:
                raise ControlError("bad-params", "'agent' (an agent id) is required")
            acd = self.center.acd
            try:
                if action == "login":
                    acd.login(agent, str(params.get("device", "")))
                elif action == "logout":
                    acd.logout(agent)
                elif action == "pause":
                    reason = params.get("reason")
                    if not isinstance(reason, str) or not reason:
                        raise ControlError("bad-params", "'reason' (a pause reason) is required")
                    acd.pause(agent, reason)
                else:
                    acd.unpause(agent)
            except (AcdError, CallError) as exc:
                raise ControlError("refused", str(exc)) from exc
            rows = (await self._agents_list({}))["agents"]
            return next(row for row in rows if row["name"] == agent)

        return handler
