"""Common part of the FXO and FXS state machines: port I/O, media engine, timers, status.

Each analog port is a channel of the media engine
(:class:`appliance.media.engine.MediaEngine`). Per 20 ms tick:

1. :meth:`AnalogChannel.receive` reads the port's received frame and its
   signalling events, runs the state machine on the events, hands the frame to
   the engine (``write_input``) and to the channel's own caller-ID and
   dial-tone receivers, and measures its level (silence supervision);
2. the engine ticks: DTMF and call-progress detection, bridges, tones; its
   events come back through :meth:`AnalogChannel.on_media_event`; its output
   frame goes straight to the port (the engine ``sink``).

Timers come from the injectable clock.
"""

from __future__ import annotations

import enum
import logging
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from appliance.media.dsp.levels import power_to_dbm0
from appliance.media.dsp.tones import parse_tone
from appliance.media.engine import ChannelHandle, MediaEngine
from appliance.media.events import DtmfDigit, MediaEvent, PlaybackFinished, ToneDetected
from appliance.runtime.clock import Clock, TimerHandle
from appliance.signalling.analog.callerid import CallerId
from appliance.signalling.analog.countries import CountryProfile
from appliance.signalling.analog.listen import (
    DigitHeard,
    LevelHeard,
    LineListener,
    ListenEvent,
    ToneHeard,
)
from drivers.analog.base import AnalogPort, PortEvent

log = logging.getLogger("appliance.signalling.analog")


@dataclass(frozen=True)
class AnalogCallEvent:
    """What a channel tells the switch / call layer."""

    port: str
    kind: str  # incoming, callerid, answered, connected, disconnected, failed, feature, ...
    caller_id: CallerId | None = None
    reason: str = ""
    digits: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


EventSink = Callable[[AnalogCallEvent], None]


class AnalogChannel(ABC):
    """Base of :class:`FxoChannel` and :class:`FxsChannel`."""

    state: Any
    profile: CountryProfile  # the country the port is set up for (its tones and cadences)
    #: Whether :meth:`_on_heard` uses the line level (FXO silence/disconnect supervision);
    #: ports that do not are spared a power measurement per 20 ms frame.
    measures_level = True

    def __init__(self, port: AnalogPort, clock: Clock, engine: MediaEngine,
                 listeners: list[LineListener] | None = None,
                 on_event: EventSink | None = None) -> None:
        self.port = port
        self.name = port.name
        self.clock = clock
        self.engine = engine
        self.listeners = listeners or []
        self.on_event = on_event
        self.address = ""  # the configured device address, for status displays
        self.call_id: str | None = None  # set by the call layer while a call uses the port
        # maintenance busy-out (OPS-1): the port is 'blocked' now, or when its call ends
        self.busied_out = False
        self.state_listener: Callable[[AnalogChannel, str, str], None] | None = None
        self.handle: ChannelHandle = engine.register(port.name, sink=self._send)
        engine.enable_dtmf(self.handle)
        self._timers: dict[str, TimerHandle] = {}
        self.peer: AnalogChannel | None = None
        self.state_since = clock.monotonic()
        self.last_event = ""
        self.history: deque[str] = deque(maxlen=20)
        self.heard: deque[str] = deque(maxlen=40)  # digits and tones heard (diagnostics)

    # -- state ---------------------------------------------------------------
    def _set_state(self, new: enum.Enum, why: str) -> None:
        old = self.state
        if old is new:
            return
        self.state = new
        self.state_since = self.clock.monotonic()
        self.history.append(f"{self.state_since:.2f} {old.value}->{new.value} ({why})")
        log.info("port %s: %s -> %s (%s)", self.name, old.value, new.value, why,
                 extra={"port": self.name, "state": new.value})
        if self.state_listener is not None:
            self.state_listener(self, old.value, why)

    def _emit(self, kind: str, **kw: Any) -> None:
        event = AnalogCallEvent(self.name, kind, **kw)
        self.last_event = kind
        if self.on_event is not None:
            self.on_event(event)

    # -- timers ----------------------------------------------------------------
    def _start_timer(self, name: str, delay: float, callback: Callable[[], None]) -> None:
        self._cancel_timer(name)

        def fire() -> None:
            self._timers.pop(name, None)
            callback()

        self._timers[name] = self.clock.call_later(delay, fire)

    def _cancel_timer(self, name: str) -> None:
        handle = self._timers.pop(name, None)
        if handle is not None:
            handle.cancel()

    def _cancel_all_timers(self) -> None:
        for name in list(self._timers):
            self._cancel_timer(name)

    # -- audio (through the media engine) ----------------------------------------
    def play_tone(self, name: str, tone: str, duration_s: float | None = None) -> None:
        self.engine.play_spec(self.handle, parse_tone(tone), tag=name, duration_s=duration_s)

    def play_samples(self, name: str, samples: npt.NDArray[np.int16]) -> None:
        self.engine.play_samples(self.handle, samples.astype(np.int16), tag=name)

    def stop_audio(self) -> None:
        if self.engine.playing(self.handle) is not None:
            self.engine.stop_playback(self.handle)

    @property
    def playing(self) -> str:
        return self.engine.playing(self.handle) or ""

    def connect(self, other: AnalogChannel) -> None:
        """Bridge this channel's audio with ``other``'s (both ways)."""
        self.stop_audio()
        other.stop_audio()
        self.engine.bridge(self.handle, other.handle)
        self.peer, other.peer = other, self

    def disconnect(self) -> None:
        if self.peer is not None:
            self.engine.unbridge(self.handle)
            self.peer.peer = None
            self.peer = None

    def _send(self, frame: npt.NDArray[np.int16] | npt.NDArray[np.uint8]) -> None:
        if not self.port.closed:
            self.port.write_frame(frame.astype(np.int16))

    # -- per tick ---------------------------------------------------------------
    def receive(self) -> None:
        """Read the port (call once per tick, before the media engine ticks)."""
        if self.port.closed:
            return
        frame = self.port.read_frame()
        for event in self.port.poll_events():
            self._on_port_event(event)
        if frame is None:
            return
        self.handle.write_input(frame)
        if self.measures_level:
            power = float(np.mean(np.square(frame.astype(np.float64))))
            self._on_heard(LevelHeard(power_to_dbm0(power)))
        for listener in self.listeners:
            for heard in listener.listen(frame):
                self._on_heard(heard)

    def on_media_event(self, event: MediaEvent) -> None:
        """An event of the media engine about this channel."""
        if isinstance(event, DtmfDigit):
            self.heard.append(event.digit)
            self._on_heard(DigitHeard(event.digit))
        elif isinstance(event, ToneDetected):
            self.heard.append(event.tone)
            self._on_heard(ToneHeard(event.tone))
        elif isinstance(event, PlaybackFinished) and event.reason == "done":
            self._audio_finished(event.tag)

    def reset_listeners(self) -> None:
        for listener in self.listeners:
            listener.reset()

    @abstractmethod
    def _audio_finished(self, name: str) -> None:
        """A one-shot tone or sample playback has played out."""

    @abstractmethod
    def _on_port_event(self, event: PortEvent) -> None:
        """A line or hook event from the port (the FXO or FXS state machine's input)."""

    # -- maintenance (OPS-1) ----------------------------------------------------------
    @abstractmethod
    def busy_out(self) -> None:
        """Take the port out of service; a call in progress finishes first."""

    @abstractmethod
    def return_to_service(self) -> None:
        """Undo :meth:`busy_out`."""

    @abstractmethod
    def _on_heard(self, heard: ListenEvent) -> None:
        """What the port's listener heard (tones, caller ID, silence)."""

    def status(self) -> dict[str, Any]:
        line = self.port.status()
        return {
            "name": self.name, "port": self.name, "kind": self.port.kind,
            "address": self.address, "state": self.state.value, "busied_out": self.busied_out,
            "hook": "off" if line.get("off_hook") else "on",
            "battery": bool(line.get("battery", True)), "call_id": self.call_id,
            "state_for_s": round(self.clock.monotonic() - self.state_since, 2),
            "playing": self.playing, "peer": self.peer.name if self.peer else "",
            "last_event": self.last_event, "history": list(self.history)[-5:],
            "line": line,
        }

