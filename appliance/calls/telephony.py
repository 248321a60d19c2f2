"""The daemon's switch: every registered technology's legs behind one :class:`Switch`.

Agent devices are rung through the technology that reaches them (an FXS phone
by port name or extension, a SIP endpoint); ``external:NUMBER`` goes out on
the :class:`~appliance.calls.outbound.OutboundRoute`. Whatever their
technology, legs with audio are channels of the one media engine
(:attr:`Channel.media`), so a bridge between an E1 caller and an FXS agent is
an engine bridge, and three or more legs a conference.
"""

from __future__ import annotations

from collections.abc import Sequence

from appliance.calls.channel import Channel, ChannelListener
from appliance.calls.outbound import OutboundRoute
from appliance.calls.technology import TechnologyRegistry
from appliance.media.engine import ChannelHandle, MediaEngine, MediaError


def media_handle(channel: Channel) -> ChannelHandle:
    """The media-engine channel carrying ``channel``'s audio."""
    handle = channel.media
    if handle is None:
        raise MediaError(f"{channel!r} has no audio path (not answered, or no media)")
    return handle


class EngineBridge:
    """Legs of any technology joined in the media engine."""

    def __init__(self, engine: MediaEngine, channels: Sequence[Channel]) -> None:
        self._engine = engine
        self._channels: list[Channel] = []
        for channel in channels:
            self.add(channel)

    @property
    def channels(self) -> Sequence[Channel]:
        return tuple(self._channels)

    def add(self, channel: Channel) -> None:
        media_handle(channel)
        self._channels.append(channel)
        self._rebuild()

    def remove(self, channel: Channel) -> None:
        if channel in self._channels:
            self._channels.remove(channel)
            if channel.media is not None:  # a leg already released has no audio left
                self._engine.unbridge(channel.media)
            self._rebuild()

    def destroy(self) -> None:
        for channel in list(self._channels):
            self.remove(channel)

    def _rebuild(self) -> None:
        # legs released meanwhile (a span lost with its calls) have no audio to join
        handles = [c.media for c in self._channels if c.media is not None]
        if len(handles) < 2:
            return
        for handle in handles:
            if self._engine.playing(handle) is not None:
                self._engine.stop_playback(handle)
        if len(handles) == 2:
            self._engine.bridge(handles[0], handles[1])
        else:
            self._engine.conference(handles)


class TelephonySwitch:
    """The :class:`~appliance.calls.channel.Switch` the call-center core uses in the daemon."""

    def __init__(self, engine: MediaEngine, technologies: TechnologyRegistry,
                 outbound: OutboundRoute) -> None:
        self.engine = engine
        self.technologies = technologies
        self.outbound = outbound

    def reaches(self, device: str) -> bool:
        """Whether some technology can ring ``device`` (an extension, a phone)."""
        return self.technologies.device_owner(device) is not None

    def device_name(self, device: str) -> str | None:
        """The one name of the phone ``device`` designates; None: no technology has it."""
        return self.technologies.device_name(device)

    def originate(self, destination: str, caller_id: str, listener: ChannelListener) -> Channel:
        kind, _, number = destination.partition(":")
        if kind == "external":
            return self.outbound.dial(number, caller_id, listener)
        owner = self.technologies.device_owner(destination)
        if owner is None:
            raise ValueError(f"originate: no device {destination!r} on any technology")
        return owner.originate(destination, caller_id, listener)

    def bridge(self, channels: Sequence[Channel]) -> EngineBridge:
        return EngineBridge(self.engine, channels)
