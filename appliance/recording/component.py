"""Call recording inside appliance-telephonyd, driven by the call model's events.

When a caller meets an agent (``call.bridge``) the recording policy decides
and, if so, the media engine's tap feeds a WAV writer; ``call.end`` closes it.
At start-up files left open by a crash are repaired; an orderly stop or a
power-off request (PWR-2) closes every file before telephonyd says it is
ready to lose power. Serves ``rec.*`` and ``stats.live``.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from appliance.calls.channel import Channel
from appliance.calls.component import CallCenterComponent
from appliance.calls.model import Call
from appliance.calls.telephony import media_handle
from appliance.config import ApplianceConfig
from appliance.config.sections.recording import RecordingSection
from appliance.media.component import MediaComponent
from appliance.media.engine import ChannelHandle, MediaError
from appliance.recording.control import register_recording_methods
from appliance.recording.index import RecordingError, RecordingIndex
from appliance.recording.policy import CallInfo
from appliance.recording.recorder import Recorder, legs_of
from appliance.runtime.events import Event
from appliance.runtime.service import Component, Service
from appliance.stats.live import register_live_method
from appliance.store import open_database

log = logging.getLogger("appliance.recording")


class RecordingComponent(Component):
    name = "recording"

    def __init__(
        self,
        media: MediaComponent,
        center: CallCenterComponent,
    ) -> None:
        self._media = media
        self._center = center
        self.recorder: Recorder | None = None
        self._unlisten: list[Any] = []
        self._codes: tuple[str, ...] = ()  # the in-call feature codes registered with the ACD

    async def start(self, service: Service) -> None:
        engine = self._media.engine
        assert engine is not None and service.db is not None
        config = service.config
        # the writer thread indexes through a connection of its own
        index = RecordingIndex(open_database(config.paths.database_path))
        self.recorder = Recorder(
            config.paths.recordings_path,
            index,
            engine,
            config.recording,
            service.clock,
            alarm=lambda topic, data: self._alarm(service, topic, data),
        )
        for rec in self.recorder.recover():
            log.warning(
                "recording %s repaired after an unclean stop", rec.id, extra={"recording": rec.id}
            )
        self._unlisten = [
            service.bus.listen("call.bridge", self._bridged),
            service.bus.listen("call.end", self._ended),
        ]
        register_recording_methods(
            service.control, self.recorder, self._call_lookup, self._channel_lookup, engine
        )
        register_live_method(service.control, config.paths.database_path, service.clock.time,
                             self._center.technologies.circuits, self._media.frame_status)
        self._register_codes(config.recording)
        self._unlisten.append(self._forget_codes)

    # the policy, format, limits and feature codes of the recordings that start next
    live_keys = frozenset({"recording"})

    async def reconfigure(self, config: ApplianceConfig) -> None:
        if self.recorder is None:
            return
        self._forget_codes()
        self.recorder.reconfigure(config.recording)
        self._register_codes(config.recording)

    def _register_codes(self, settings: RecordingSection) -> None:
        """The agent's keypad during a call: on-demand start/stop and pause/resume (REC-2)."""
        assert self._center.center is not None, "the call center starts first"
        features = self._center.center.acd.call_features
        self._codes = (settings.on_demand_code, settings.pause_code)
        for code in self._codes:
            features[code] = functools.partial(self._feature, code)

    def _forget_codes(self) -> None:
        center = self._center.center
        for code in self._codes:
            if center is not None:
                center.acd.call_features.pop(code, None)
        self._codes = ()

    def _feature(self, code: str, call: Call) -> str:
        found = self._call_lookup(call.call_id)
        if found is None or self.recorder is None:
            raise RecordingError(f"call {call.call_id} has no agent bridged to record")
        done = self.recorder.feature_code(code, found[0], legs_of(self._call_lookup, call.call_id))
        return f"recording {done}"

    @staticmethod
    def _alarm(service: Service, topic: str, data: dict[str, Any]) -> None:
        service.bus.publish(topic, **data)

    def _call(self, call_id: str) -> Call | None:
        center = self._center.center
        return center.calls.calls.get(call_id) if center is not None else None

    def _call_lookup(self, call_id: str) -> tuple[CallInfo, Any, Any] | None:
        call = self._call(call_id)
        if call is None or call.bridge is None:
            return None
        phone = self._agent_phone(call)
        others = [c for c in call.bridge.channels if c is not phone]
        if phone is None or not others:
            return None
        try:
            caller, agent = media_handle(others[0]), media_handle(phone)
        except MediaError:
            return None
        info = CallInfo(
            call.call_id,
            caller=call.caller,
            dnis=call.dnis,
            agent=call.agent,
            extension=phone.dnis,  # the number our phone was rung on: its extension
            queue=call.queue,
        )
        return info, caller, agent

    def _agent_phone(self, call: Call) -> Channel | None:
        """The leg of the call on our own phone: the ACD agent's leg on a queue call, the
        first leg of a click-to-dial call (which rings the agent first), else the
        leg the caller reached."""
        assert call.bridge is not None and self._center.center is not None
        channels = list(call.bridge.channels)
        member = self._center.center.acd.agents.get(call.agent)
        if member is not None and member.leg in channels:
            return member.leg
        if call.direction == "outbound":
            return call.channel
        return next((c for c in channels if c is not call.channel), None)

    def _channel_lookup(self, name: str) -> ChannelHandle | None:
        engine = self._media.engine
        if engine is None:
            return None
        return next((h for h in engine.channels if h.name == name), None)

    def _bridged(self, event: Event) -> None:
        found = self._call_lookup(str(event.data.get("call_id")))
        if (
            found is not None
            and self.recorder is not None
            and not self.recorder.is_recording(found[0].call_id)
        ):
            self.recorder.call_connected(found[0], legs_of(self._call_lookup, found[0].call_id))

    def _ended(self, event: Event) -> None:
        if self.recorder is not None:
            self.recorder.call_ended(str(event.data.get("call_id")))

    async def prepare_shutdown(self) -> dict[str, int]:
        if self.recorder is None:
            return {}
        active = len(self.recorder.active())
        late = self.recorder.shutdown()
        return {"recordings_closed": active - len(late)}

    async def stop(self) -> None:
        for unlisten in self._unlisten:
            unlisten()
        self._unlisten = []
        if self.recorder is not None:
            self.recorder.shutdown()
            self.recorder.index.conn.close()
            self.recorder = None

    def status(self) -> dict[str, Any]:
        return {"active": len(self.recorder.active())} if self.recorder is not None else {}
