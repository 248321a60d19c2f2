"""What a channel hears on its receive path, as events.

The analog state machines do not decode audio themselves: the media engine
(DTMF, call-progress tones) and the receivers in :mod:`receivers` (caller-ID
FSK bursts, dial tone) turn received 20 ms frames into these events. Tests
may drive the state machines with any listener.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from drivers.analog.base import Frame


@dataclass(frozen=True)
class DigitHeard:
    digit: str


@dataclass(frozen=True)
class CallerIdBurst:
    """A complete FSK caller-ID message (type, length, body, checksum) as received."""

    message: bytes


@dataclass(frozen=True)
class CallerIdGarbled:
    reason: str


@dataclass(frozen=True)
class ToneHeard:
    """A call-progress tone recognised by frequency and cadence: 'dial', 'busy', 'reorder'."""

    name: str


@dataclass(frozen=True)
class LevelHeard:
    """The frame's power in dBm0 (for silence supervision)."""

    dbm0: float


ListenEvent = DigitHeard | CallerIdBurst | CallerIdGarbled | ToneHeard | LevelHeard


class LineListener(Protocol):
    def listen(self, frame: Frame) -> list[ListenEvent]:
        """Events completed by this received frame."""
        ...

    def reset(self) -> None:
        """Forget partial detections (a new call or a new caller-ID window)."""
        ...
