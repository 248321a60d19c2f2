"""The channel interface: the only thing the IVR and ACD know about a call leg.

A channel is one leg of a call on some technology (an E1 B-channel, an FXO
line, an FXS phone, a SIP dialog, or a simulated leg in ``hil traffic``). The
call-center core drives it with six actions and receives four events; nothing
else crosses the seam, so the same IVR and ACD code runs against real
signalling on the box and against simulated channels in virtual time.

Actions (core → technology): :meth:`Channel.answer`, :meth:`Channel.play`
(a prompt or music on hold), :meth:`Channel.stop_play`, :meth:`Channel.hold`
and :meth:`Channel.retrieve`, :meth:`Channel.hangup`, :meth:`Switch.originate`
(ring an agent device or dial an external number) and :meth:`Switch.bridge`
(connect two or more channels; three or more is a conference). A channel
whose audio runs through the media engine names its engine channel in
:attr:`Channel.media`.

Hang-up bookkeeping lives here once: :meth:`Channel.hangup` marks the leg
released and calls the technology's :meth:`Channel._release` exactly once,
however many callers (IVR, ACD, call model) ask; a far-end release
(``_emit_hangup``) marks it too, so a later ``hangup()`` does nothing.

Events (technology → core), delivered to the channel's
:class:`ChannelListener`: ``on_digit`` (a DTMF digit, Q.23/Q.24),
``on_answered`` (the far end picked up an originated channel),
``on_play_done`` (a prompt finished; never sent for a looped prompt) and
``on_hangup`` (the far end released, with the ITU-T Q.850 cause).
Collecting digits (inter-digit and first-digit timeouts) is done by the
core from ``on_digit`` events and clock timers, not by the technology.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Protocol

from appliance.media.engine import ChannelHandle

# ITU-T Q.850 cause values used by the core
CAUSE_UNALLOCATED_NUMBER = 1
CAUSE_NORMAL_CLEARING = 16
CAUSE_USER_BUSY = 17
CAUSE_NO_ANSWER = 19
CAUSE_CALL_REJECTED = 21
CAUSE_NORMAL_UNSPECIFIED = 31
CAUSE_NO_CIRCUIT_AVAILABLE = 34
CAUSE_TEMPORARY_FAILURE = 41
# outgoing calls barred: Q.931 (1988) Table 4-13; toll-fraud guards (calls/tollguard.py)
CAUSE_OUTGOING_CALLS_BARRED = 52
# what a user is told for them (the Q.850 Table 1 names)
CAUSE_TEXT = {
    CAUSE_UNALLOCATED_NUMBER: "unallocated number", CAUSE_NORMAL_CLEARING: "normal clearing",
    CAUSE_USER_BUSY: "user busy", CAUSE_NO_ANSWER: "no answer",
    CAUSE_CALL_REJECTED: "call rejected", CAUSE_NORMAL_UNSPECIFIED: "normal, unspecified",
    CAUSE_NO_CIRCUIT_AVAILABLE: "no circuit available",
    CAUSE_TEMPORARY_FAILURE: "temporary failure",
    CAUSE_OUTGOING_CALLS_BARRED: "outgoing calls barred",
}


class ChannelListener(Protocol):
    """Receives the events of a channel (the call model, the IVR, the ACD)."""

    def on_digit(self, channel: Channel, digit: str) -> None: ...

    def on_answered(self, channel: Channel) -> None: ...

    def on_play_done(self, channel: Channel, prompt: str) -> None: ...

    def on_hangup(self, channel: Channel, cause: int) -> None: ...


class Channel(ABC):
    """One call leg. Technologies subclass it and call ``self.listener`` on events."""

    def __init__(self, name: str, *, caller: str = "", dnis: str = "", trunk: str = "") -> None:
        self.name = name
        self.caller = caller
        self.dnis = dnis
        self.trunk = trunk
        self.listener: ChannelListener | None = None
        self.hung_up = False
        self.call_id = ""  # the call core's id of the call this leg is in ('' before one)

    def set_listener(self, listener: ChannelListener | None) -> None:
        """Route this channel's events to ``listener`` from now on."""
        self.listener = listener

    # -- actions -----------------------------------------------------------
    @abstractmethod
    def answer(self) -> None:
        """Answer an inbound channel (Q.931 CONNECT, FXO off-hook)."""

    @abstractmethod
    def play(self, prompt: str, *, loop: bool = False) -> None:
        """Start playing ``prompt`` (a prompt name); replaces what was playing.

        ``loop=True`` repeats it (music on hold) until :meth:`stop_play`.
        """

    @abstractmethod
    def stop_play(self) -> None:
        """Stop any prompt being played (no ``on_play_done`` follows)."""

    def hold(self) -> None:
        """The far end is put on hold: music on hold from the media engine.

        A technology with a hold of its own in the signalling (Q.931 HOLD,
        ETSI EN 300 139; a SIP re-INVITE with ``a=sendonly``, RFC 3264 §8.4)
        overrides this and :meth:`retrieve`.
        """
        self.play("moh", loop=True)

    def retrieve(self) -> None:
        """The far end comes back from hold."""
        self.stop_play()

    @property
    def media(self) -> ChannelHandle | None:
        """The media-engine channel carrying this leg's audio (None: no audio path yet)."""
        return None

    def hangup(self, cause: int = CAUSE_NORMAL_CLEARING) -> None:
        """Release the channel with a Q.850 cause; safe twice, no event follows."""
        if self.hung_up:
            return
        self.hung_up = True
        self._release(cause)

    @abstractmethod
    def _release(self, cause: int) -> None:
        """The technology clears the leg (Q.931 DISCONNECT, FXO on-hook...); called once."""

    # -- helpers for technologies ------------------------------------------
    def _emit_digit(self, digit: str) -> None:
        if self.listener is not None and not self.hung_up:
            self.listener.on_digit(self, digit)

    def _emit_answered(self) -> None:
        if self.listener is not None and not self.hung_up:
            self.listener.on_answered(self)

    def _emit_play_done(self, prompt: str) -> None:
        if self.listener is not None and not self.hung_up:
            self.listener.on_play_done(self, prompt)

    def _emit_hangup(self, cause: int) -> None:
        if self.hung_up:
            return
        self.hung_up = True
        if self.listener is not None:
            self.listener.on_hangup(self, cause)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


class Bridge(Protocol):
    """Channels exchanging media; two is a bridge, three or more a conference."""

    @property
    def channels(self) -> Sequence[Channel]: ...

    def add(self, channel: Channel) -> None: ...

    def remove(self, channel: Channel) -> None: ...

    def destroy(self) -> None: ...


class Switch(Protocol):
    """What a technology offers beyond its channels: new legs and bridges."""

    def originate(self, destination: str, caller_id: str, listener: ChannelListener) -> Channel:
        """Start a new outgoing leg: an agent device (``fxs1``, ``sip/alice``) or an
        external number (``external:+4917...``). It rings until ``on_answered``
        or ``on_hangup`` (busy, rejected, no answer); :meth:`Channel.hangup`
        cancels it."""
        ...

    def bridge(self, channels: Sequence[Channel]) -> Bridge:
        """Connect the media of ``channels`` (all answered)."""
        ...
