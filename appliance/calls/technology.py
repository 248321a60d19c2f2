"""The channel-technology table: how PRI, analog (and next SIP) plug into the call core.

The call core (``appliance.calls``, ``appliance.ivr``, ``appliance.acd``)
imports no technology. Each technology instead registers one
:class:`Technology` object with the :class:`TechnologyRegistry` the
call-center component owns, in the manner of Asterisk's
``ast_channel_register()`` and its ``struct ast_channel_tech`` table.

The contract has two halves:

* the **leg type** (:attr:`Technology.leg_type`, a subclass of
  :class:`~appliance.calls.channel.Channel`): answer, play/stop, hold/retrieve,
  hang up (the technology implements ``_release``; the bookkeeping stays in the
  base), the media-engine handle (:attr:`Channel.media`), and the four events;
* the **technology object**: :meth:`Technology.reaches` / :meth:`Technology.originate`
  to ring a device it owns (an FXS phone by port name or extension, a SIP
  endpoint), :meth:`Technology.trunks` / :meth:`Technology.dial` to place an
  outside call on one of its trunks (an E1 span, an FXO line), raising
  :class:`TrunkUnavailable` at once when that trunk is busy or out of service
  so the core's outbound route can try the next one, and
  :meth:`Technology.circuits` for the live circuit map (``stats.live``).

Technologies call back into the core only through the registry:
:meth:`TechnologyRegistry.inbound` for a new inbound leg (SETUP on a span,
an answered FXO line, a SIP INVITE), :meth:`TechnologyRegistry.feature` for
feature-code digits keyed on an agent phone and :meth:`TechnologyRegistry.recall`
for a register recall (hook flash) on a phone in a call; :attr:`TechnologyRegistry.prompts`
names the prompt files every technology plays from.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Protocol

from appliance.calls.channel import CAUSE_TEMPORARY_FAILURE, Channel, ChannelListener
from appliance.media.engine import ChannelHandle, MediaEngine, MediaError
from appliance.media.events import DtmfDigit, MediaEvent, PlaybackFinished
from appliance.media.prompts import Prompt

log = logging.getLogger("appliance.calls")

PromptLookup = Callable[[str], Prompt | None]
InboundHandler = Callable[[Channel], object]  # what it returns (the new call) is not used
FeatureHandler = Callable[[str, str], bool]
# a number keyed on a phone of ours: (the phone's leg, the destination to originate)
DialledHandler = Callable[[Channel, str], object]
# register recall on a phone in a call: (leg, action, destination) -> what the phone does next
RecallHandler = Callable[[Channel, str, str], str]
RECALL_FLASH, RECALL_DIAL, RECALL_HANGUP = "flash", "dial", "hangup"  # the actions
# the phone itself put its call on hold / took it back (a SIP re-INVITE, Q.953 HOLD/RETRIEVE)
RECALL_HOLD, RECALL_RETRIEVE = "hold", "retrieve"
RECALL_DIALTONE, RECALL_CONNECTED = "dialtone", "connected"  # the answers; '' = not taken


class TrunkUnavailable(Exception):
    """A trunk cannot take an outgoing call now (all circuits busy, out of service)."""


class Technology(Protocol):
    """One channel technology as the call core sees it (see the module docstring)."""

    @property
    def name(self) -> str:
        """The technology's name (``pri``, ``analog``, ``sip``), as ``calls list`` shows it."""
        ...

    @property
    def leg_type(self) -> type[Channel]:
        """The :class:`Channel` subclass of this technology's legs."""
        ...

    def reaches(self, device: str) -> bool:
        """Whether ``device`` (a port name, an extension, an endpoint) is one of ours."""
        ...

    def device_name(self, device: str) -> str | None:
        """The one name of the phone ``device`` designates (``201`` and ``fxs1`` are both
        ``fxs1``), or None when it is not one of ours: two agents cannot hold one phone."""
        ...

    def originate(self, device: str, caller_id: str, listener: ChannelListener) -> Channel:
        """Ring ``device``; a busy device reports ``on_hangup`` (Q.850 17) later."""
        ...

    def trunks(self) -> Sequence[str]:
        """The trunks (span names, line names) this technology dials out on."""
        ...

    def dial(self, trunk: str, number: str, caller_id: str,
             listener: ChannelListener) -> Channel:
        """Place an outside call to ``number`` on ``trunk``; raises :class:`TrunkUnavailable`."""
        ...

    def circuits(self) -> dict[str, dict[str, bool]]:
        """Trunk -> circuit -> busy, for the live wallboard."""
        ...


class TechnologyRegistry:
    """The technology table, owned by the call-center component."""

    def __init__(self) -> None:
        self._technologies: dict[str, Technology] = {}
        self._by_leg_type: dict[type[Channel], Technology] = {}
        self.prompts: PromptLookup = _no_prompts
        self.on_inbound: InboundHandler | None = None
        self.on_feature: FeatureHandler | None = None
        self.on_recall: RecallHandler | None = None
        self.on_dialled: DialledHandler | None = None

    def register(self, technology: Technology) -> None:
        if technology.name in self._technologies:
            raise ValueError(f"channel technology {technology.name!r} is registered twice")
        self._technologies[technology.name] = technology
        self._by_leg_type[technology.leg_type] = technology

    def unregister(self, name: str) -> None:
        technology = self._technologies.pop(name, None)
        if technology is not None:
            self._by_leg_type.pop(technology.leg_type, None)

    def __iter__(self) -> Iterator[Technology]:
        return iter(list(self._technologies.values()))

    def get(self, name: str) -> Technology | None:
        return self._technologies.get(name)

    def technology_of(self, channel: Channel) -> Technology | None:
        """The technology that registered ``channel``'s leg type (or a base of it)."""
        for cls in type(channel).__mro__:
            found = self._by_leg_type.get(cls)
            if found is not None:
                return found
        return None

    def name_of(self, channel: Channel) -> str:
        technology = self.technology_of(channel)
        return technology.name if technology is not None else "unknown"

    def device_owner(self, device: str) -> Technology | None:
        """The technology that reaches ``device``, if any."""
        return next((t for t in self._technologies.values() if t.reaches(device)), None)

    def device_name(self, device: str) -> str | None:
        """``device``'s one name on the technology that reaches it; None: no such device."""
        owner = self.device_owner(device)
        return owner.device_name(device) if owner is not None else None

    def circuits(self) -> dict[str, dict[str, bool]]:
        out: dict[str, dict[str, bool]] = {}
        for technology in self._technologies.values():
            out.update(technology.circuits())
        return out

    # -- technologies -> core --------------------------------------------------------
    def prompt(self, name: str) -> Prompt | None:
        """The prompt called ``name`` (None: not installed), from the core's library."""
        return self.prompts(name)

    def inbound(self, leg: Channel) -> None:
        """A new inbound leg; refused (Q.850 41) if no call core is attached."""
        if self.on_inbound is None:
            log.warning("inbound %s refused: no call core attached", leg.name,
                        extra={"channel": leg.name})
            leg.hangup(CAUSE_TEMPORARY_FAILURE)
            return
        self.on_inbound(leg)

    def feature(self, device: str, digits: str) -> bool:
        """Feature-code digits keyed on ``device``; False if nothing took them."""
        return self.on_feature is not None and self.on_feature(device, digits)

    def dialled(self, leg: Channel, destination: str) -> None:
        """A number keyed on one of our phones: ``leg`` is the phone, off-hook, and
        ``destination`` what to originate (an extension or ``external:NUMBER``);
        released with Q.850 41 if no call core is attached."""
        if self.on_dialled is None:
            leg.hangup(CAUSE_TEMPORARY_FAILURE)
            return
        self.on_dialled(leg, destination)

    def recall(self, leg: Channel, action: str, destination: str = "") -> str:
        """A register recall on the phone of ``leg`` during a call: ``flash``, ``dial``
        (the number keyed after a flash, as a destination the core can originate) or
        ``hangup`` (on-hook after a flash); or the phone's own ``hold`` / ``retrieve``
        (unlike a flash these never toggle: holding a held call changes nothing). The
        answer says what the phone does next: RECALL_DIALTONE (the other party is held:
        give dial tone), RECALL_CONNECTED (back in a call) or '' (nothing took it: the
        technology's own behaviour)."""
        return self.on_recall(leg, action, destination) if self.on_recall is not None else ""


def _no_prompts(name: str) -> Prompt | None:
    return None


# -- for technologies whose legs are plain media-engine channels (PRI, SIP) -----------
def play_on_engine(engine: MediaEngine, leg: Channel, prompt: str, found: Prompt | None,
                   *, loop: bool) -> None:
    """Play prompt (or tone) ``prompt`` on ``leg``'s engine channel."""
    handle = leg.media
    if handle is None:
        raise MediaError(f"{leg.name}: not answered, nothing to play on")
    if not engine.play_named(handle, prompt, found, loop=loop):
        # a missing prompt must not strand the caller: say so, and let the flow go on
        log.error("%s: no prompt or tone named %r; skipped", leg.name, prompt,
                  extra={"channel": leg.name, "prompt": prompt})
        if not loop:
            asyncio.get_running_loop().call_soon(leg._emit_play_done, prompt)


def stop_on_engine(engine: MediaEngine, leg: Channel) -> None:
    handle = leg.media
    if handle is not None and engine.playing(handle) is not None:
        engine.stop_playback(handle)


def media_event_to_leg(leg: Channel, event: MediaEvent, *, digits: bool = True) -> None:
    """The engine's digit and playback events of ``leg``'s channel, as leg events
    (``digits=False``: the technology reports digits itself, RFC 4733)."""
    if isinstance(event, DtmfDigit) and digits:
        leg._emit_digit(event.digit)
    elif isinstance(event, PlaybackFinished) and event.reason in ("done", "barge-in"):
        leg._emit_play_done(event.tag)


def leg_of(legs: Iterable[Channel], handle: ChannelHandle) -> Channel | None:
    return next((leg for leg in legs if leg.media is handle), None)
