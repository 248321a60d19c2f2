"""Events the media engine reports through its ``on_event`` callback."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from appliance.media.engine import ChannelHandle


@dataclass(frozen=True)
class DtmfDigit:
    """A DTMF digit started on a channel (Q.24 reception)."""

    channel: ChannelHandle
    digit: str
    tick: int


@dataclass(frozen=True)
class ToneDetected:
    """A call-progress or fax tone was recognised: 'busy', 'reorder', 'cng', 'ced', 'silence'."""

    channel: ChannelHandle
    tone: str
    tick: int


@dataclass(frozen=True)
class PlaybackFinished:
    """A tone or prompt ended: played out, barged in by a digit, or stopped."""

    channel: ChannelHandle
    tag: str
    reason: Literal["done", "barge-in", "stopped"]
    tick: int


MediaEvent = DtmfDigit | ToneDetected | PlaybackFinished
