"""A supervisor on a live call: listen, whisper or barge (ACD-5; issue 12 item 10).

``calls.monitor`` rings the supervisor's phone (any device a technology owns); once it is
answered the supervisor joins the call's two parties in the media engine:

* ``listen``: the supervisor hears caller and agent; neither hears the supervisor;
* ``whisper``: the agent hears the supervisor too, the caller still only the agent;
* ``barge``: three-way, everyone hears the other two.

The supervisor's leg is no leg of the call: the CDR, the queue_log and the recording stay
the call's own. Hanging up the supervisor's phone leaves the caller and agent bridged as
before; when the call ends the supervisor's phone is cleared.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Literal

from appliance.calls.channel import CAUSE_NORMAL_CLEARING, Channel
from appliance.calls.model import Call, CallManager
from appliance.calls.telephony import media_handle
from appliance.media.engine import MediaEngine
from appliance.runtime.events import Event, EventBus

log = logging.getLogger("appliance.calls")

Mode = Literal["listen", "whisper", "barge"]
MODES: tuple[Mode, ...] = ("listen", "whisper", "barge")


class MonitorError(Exception):
    """A monitor request that cannot be carried out now (no such call, not talking ...)."""


def parties(call: Call) -> tuple[Channel, Channel]:
    """The caller's and the agent's legs of a call in conversation."""
    bridge = call.bridge
    if bridge is None or call.ended or call.on_hold:
        raise MonitorError(f"call {call.call_id} is not in conversation (it must be talking, "
                           "not held or waiting)")
    legs = [c for c in bridge.channels]
    if len(legs) != 2:
        raise MonitorError(f"call {call.call_id} has {len(legs)} parties; a supervisor joins a "
                           "call of two (not a consultation or a three-way)")
    caller = call.channel
    agent = next(c for c in legs if c is not caller) if caller in legs else legs[1]
    return caller, agent


class Monitor:
    """One supervisor's leg on one call; the listener of that leg."""

    def __init__(self, calls: CallManager, engine: MediaEngine, call: Call, device: str,
                 mode: Mode, *, on_done: Callable[[Monitor], None]) -> None:
        parties(call)  # refuse before ringing anyone
        self.engine = engine
        self.call = call
        self.device = device
        self.mode = mode
        self.joined = False
        self._on_done = on_done
        self.leg = calls.switch.originate(device, call.caller, self)

    # -- the supervisor's leg ------------------------------------------------------------
    def on_answered(self, channel: Channel) -> None:
        try:
            caller, agent = parties(self.call)
        except MonitorError as exc:
            log.info("monitor %s: %s; clearing the supervisor", self.call.call_id, exc)
            self.leg.hangup(CAUSE_NORMAL_CLEARING)
            return
        join = {"listen": self.engine.listen, "whisper": self.engine.whisper,
                "barge": self.engine.barge}[self.mode]
        join(media_handle(self.leg), media_handle(agent), media_handle(caller))
        self.joined = True
        log.info("supervisor on %s joined call %s (%s)", self.device, self.call.call_id,
                 self.mode, extra={"call_id": self.call.call_id})

    def on_hangup(self, channel: Channel, cause: int) -> None:
        if self.joined:  # caller and agent go back to their own bridge
            self.engine.unbridge(media_handle(channel))
            self.joined = False
        self._on_done(self)

    def on_digit(self, channel: Channel, digit: str) -> None:
        """Digits from the supervisor are not passed to the call."""

    def on_play_done(self, channel: Channel, prompt: str) -> None:
        """Nothing is played to the supervisor."""

    # -- the call ----------------------------------------------------------------------
    def call_ended(self) -> None:
        self.joined = False  # the call's bridge is gone; nothing to restore
        self.leg.hangup(CAUSE_NORMAL_CLEARING)

    def as_dict(self) -> dict[str, object]:
        return {"call_id": self.call.call_id, "device": self.device, "mode": self.mode,
                "state": "joined" if self.joined else "ringing"}


class Monitors:
    """Every supervisor on a call, and the clearing of them when their call ends."""

    def __init__(self, calls: CallManager, engine: MediaEngine, bus: EventBus | None) -> None:
        self.calls = calls
        self.engine = engine
        self.active: list[Monitor] = []
        if bus is not None:
            bus.listen("call.end", self._call_ended)

    def start(self, call_id: str, device: str, mode: Mode) -> Monitor:
        """``device`` is the phone's one name (``TelephonySwitch.device_name``)."""
        call = self.calls.calls.get(call_id)
        if call is None:
            raise MonitorError(f"no call {call_id!r} up")
        if any(m.device == device for m in self.active):
            raise MonitorError(f"{device} is already on a call as a supervisor")
        busy = next((c for c in self.calls.calls.values()
                     if any(leg.name == device for leg in c.legs)), None)
        if busy is not None:  # refused now, rather than "ringing" and a busy signal later
            raise MonitorError(f"{device} is busy: it is on call {busy.call_id}")
        monitor = Monitor(self.calls, self.engine, call, device, mode, on_done=self._done)
        self.active.append(monitor)
        return monitor

    def of(self, call_id: str) -> list[Monitor]:
        return [m for m in self.active if m.call.call_id == call_id]

    def _done(self, monitor: Monitor) -> None:
        if monitor in self.active:
            self.active.remove(monitor)

    def _call_ended(self, event: Event) -> None:
        for monitor in self.of(str(event.data.get("call_id"))):
            monitor.call_ended()
