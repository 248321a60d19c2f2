"""Simulated channels and switch: the far side of the channel interface in virtual time.

Implements :class:`appliance.calls.channel.Channel` and ``Switch`` with no
media at all: a prompt "plays" for a duration looked up in ``prompt_seconds``
(``default_prompt_seconds`` otherwise) on the clock; originated legs are
handed to a device handler registered for their destination, which decides
when (or whether) to answer. Limits: no audio, no signalling timers, bridges
only record who is connected.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from appliance.calls.channel import CAUSE_NORMAL_CLEARING, Channel, ChannelListener
from appliance.runtime.clock import Clock, TimerHandle

DeviceHandler = Callable[["SimChannel"], object]


class SimChannel(Channel):
    """A channel whose far end is test or simulator code."""

    def __init__(
        self,
        switch: SimSwitch,
        name: str,
        *,
        caller: str = "",
        dnis: str = "",
        trunk: str = "",
        destination: str = "",
    ) -> None:
        super().__init__(name, caller=caller, dnis=dnis, trunk=trunk)
        self.switch = switch
        self.destination = destination
        self.answered = False
        self.playing = ""
        self.loop = False
        self.played: list[str] = []
        self.hangup_cause: int | None = None
        self._play_timer: TimerHandle | None = None
        self.bridged_with: SimBridge | None = None

    # core → far end
    def answer(self) -> None:
        self.answered = True

    def play(self, prompt: str, *, loop: bool = False) -> None:
        self.stop_play()
        self.playing = prompt
        self.loop = loop
        self.played.append(prompt)
        if not loop:
            seconds = self.switch.prompt_length(prompt)
            self._play_timer = self.switch.clock.call_later(seconds, self._prompt_end, prompt)

    def _prompt_end(self, prompt: str) -> None:
        self._play_timer = None
        self.playing = ""
        self._emit_play_done(prompt)

    def stop_play(self) -> None:
        if self._play_timer is not None:
            self._play_timer.cancel()
            self._play_timer = None
        self.playing = ""
        self.loop = False

    def _release(self, cause: int) -> None:
        self.stop_play()
        if self.hangup_cause is None:
            self.hangup_cause = cause
        self.switch.released(self)

    # far end → core
    def press(self, digits: str) -> None:
        for d in digits:
            self._emit_digit(d)

    def far_answer(self) -> None:
        if not self.hung_up and not self.answered:
            self.answered = True
            self._emit_answered()

    def far_hangup(self, cause: int = CAUSE_NORMAL_CLEARING) -> None:
        if self.hung_up:
            return
        self.stop_play()
        self.hangup_cause = cause
        self.switch.released(self)
        self._emit_hangup(cause)


@dataclass(eq=False)
class SimBridge:
    members: list[Channel] = field(default_factory=list)
    destroyed: bool = False

    @property
    def channels(self) -> Sequence[Channel]:
        return self.members

    def add(self, channel: Channel) -> None:
        self.members.append(channel)

    def remove(self, channel: Channel) -> None:
        if channel in self.members:
            self.members.remove(channel)

    def destroy(self) -> None:
        self.destroyed = True
        self.members.clear()


class SimSwitch:
    """Creates simulated legs; devices answer according to their registered handler."""

    def __init__(self, clock: Clock, *, default_prompt_seconds: float = 3.0) -> None:
        self.clock = clock
        self.default_prompt_seconds = default_prompt_seconds
        self.prompt_seconds: dict[str, float] = {}
        self.devices: dict[str, DeviceHandler] = {}
        self.external: DeviceHandler | None = None
        self.legs: list[SimChannel] = []  # every originated leg, in order
        self.live: set[SimChannel] = set()
        self.bridges: list[SimBridge] = []
        self._n = 0

    def prompt_length(self, prompt: str) -> float:
        return self.prompt_seconds.get(prompt.split(":", 1)[0], self.default_prompt_seconds)

    def inbound(self, caller: str, dnis: str = "", trunk: str = "span1") -> SimChannel:
        self._n += 1
        channel = SimChannel(self, f"{trunk}/{self._n}", caller=caller, dnis=dnis, trunk=trunk)
        self.live.add(channel)
        return channel

    def originate(self, destination: str, caller_id: str, listener: ChannelListener) -> Channel:
        self._n += 1
        channel = SimChannel(
            self,
            f"{destination}-{self._n}",
            caller=caller_id,
            dnis=destination,
            destination=destination,
        )
        channel.set_listener(listener)
        self.legs.append(channel)
        self.live.add(channel)
        handler = self.devices.get(destination)
        if handler is None and destination.startswith("external:"):
            handler = self.external
        if handler is not None:
            handler(channel)
        return channel

    def bridge(self, channels: Sequence[Channel]) -> SimBridge:
        bridge = SimBridge(list(channels))
        for ch in channels:
            if isinstance(ch, SimChannel):
                ch.bridged_with = bridge
        self.bridges.append(bridge)
        return bridge

    def released(self, channel: SimChannel) -> None:
        self.live.discard(channel)

    def ringing(self, destination: str) -> list[SimChannel]:
        """Legs to ``destination`` still ringing (not answered, not released)."""
        return [
            c
            for c in self.legs
            if c.destination == destination and not c.answered and not c.hung_up
        ]
