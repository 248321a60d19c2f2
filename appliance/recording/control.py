"""Control-socket methods of the recorder (docs/recording.md "Control socket").

``rec.start``/``rec.stop``/``rec.pause``/``rec.resume`` take ``{"call_id": ...}``;
``rec.active`` lists the recordings in progress; ``rec.play`` plays a stored
recording into a live channel (a supervisor's phone) with
``{"recording_id": N, "channel": "sip/sup1"}``. The daemon passes two lookups:
a call id to the call's :class:`CallInfo` and its caller/agent media handles,
and a channel name to its media handle.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from appliance.recording.index import RecordingError
from appliance.recording.maintenance import mono, playable_pcm
from appliance.recording.policy import CallInfo
from appliance.recording.recorder import CallLookup, Recorder, legs_of
from appliance.runtime.control import ControlError

ChannelLookup = Callable[[str], Any | None]


class Player(Protocol):
    def play_samples(self, handle: Any, samples: Any, *, tag: str = "samples") -> None: ...


class Server(Protocol):
    def register(self, method: str, handler: Callable[[dict[str, Any]], Awaitable[Any]], *,
                 needs: str) -> None:
        ...


def _text(params: dict[str, Any], name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value:
        raise ControlError("bad-request", f"parameter {name!r} must be a non-empty string")
    return value


def register_recording_methods(server: Server, recorder: Recorder, calls: CallLookup,
                               channels: ChannelLookup, player: Player) -> None:
    """Add the ``rec.*`` methods to a control server."""

    def call(params: dict[str, Any]) -> tuple[CallInfo, Any, Any]:
        call_id = _text(params, "call_id")
        found = calls(call_id)
        if found is None:
            raise ControlError("not-found", f"no call {call_id!r} in progress")
        return found

    async def start(params: dict[str, Any]) -> dict[str, Any]:
        info, _caller, _agent = call(params)
        try:
            active = await recorder.record(info, legs_of(calls, info.call_id), reason="demand")
        except RecordingError as exc:
            raise ControlError("refused", str(exc)) from exc
        return {"recording_id": active.rec_id, "path": active.path}

    def simple(action: Callable[[str], Any]) -> Callable[[dict[str, Any]], Awaitable[Any]]:
        async def handler(params: dict[str, Any]) -> dict[str, Any]:
            call_id = _text(params, "call_id")
            try:
                action(call_id)
            except RecordingError as exc:
                raise ControlError("refused", str(exc)) from exc
            return {"call_id": call_id}
        return handler

    async def active(params: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"recording_id": a.rec_id, "call_id": a.call.call_id, "agent": a.call.agent,
                 "paused": a.sink.paused, "path": a.path} for a in recorder.active()]

    async def play(params: dict[str, Any]) -> dict[str, Any]:
        channel_name = _text(params, "channel")
        rec_id = params.get("recording_id")
        if not isinstance(rec_id, int):
            raise ControlError("bad-request", "parameter 'recording_id' must be an integer")
        handle = channels(channel_name)
        if handle is None:
            raise ControlError("not-found", f"no channel {channel_name!r}")
        try:  # a recording of an hour is 100 MB to read: a worker, never the tick's loop
            _, audio = await asyncio.to_thread(
                lambda: playable_pcm(recorder.root, recorder.index.get(rec_id)))
        except RecordingError as exc:
            raise ControlError("refused", str(exc)) from exc
        samples = mono(audio)
        player.play_samples(handle, samples, tag=f"recording-{rec_id}")
        return {"recording_id": rec_id, "channel": channel_name,
                "seconds": len(samples) / 8000.0}

    server.register("rec.start", start, needs="calls.control")
    server.register("rec.stop", simple(recorder.stop), needs="calls.control")
    server.register("rec.pause", simple(recorder.pause), needs="calls.control")
    server.register("rec.resume", simple(recorder.resume), needs="calls.control")
    server.register("rec.active", active, needs="calls.read")
    server.register("rec.play", play, needs="customer.read")
