"""A span that wraps another and logs every D-channel frame (pyserial's ``spy://`` idea).

Address: ``spy:<inner address>``, e.g. ``spy:dahdi:1`` or ``spy:sim:/run/e1-1.sock``.
Frames are logged at DEBUG on ``drivers.span.spy`` as ``<span> rx|tx <hex>``;
everything else is passed through unchanged.
"""

from __future__ import annotations

import logging

import numpy as np
import numpy.typing as npt

from drivers.registry import DeviceAddress
from drivers.span.base import (
    AudioFrames,
    Loopback,
    Span,
    SpanAlarms,
    SpanConfig,
    SpanCounters,
    SpanEvent,
)
from drivers.span.errors import SpanInitError

log = logging.getLogger("drivers.span.spy")


class SpySpan(Span):
    """Logs the D-channel of the span it wraps."""

    def __init__(self, address: str) -> None:
        super().__init__(address)
        inner = DeviceAddress.parse(address).text.partition(":")[2]
        if not inner or inner.startswith("spy:"):
            raise SpanInitError(f"span address {address!r}: 'spy:' wraps another address, "
                                "e.g. 'spy:dahdi:1'")
        from drivers.span import open_span  # the registry module imports this one lazily

        self.inner = open_span(inner)

    def _configure(self, config: SpanConfig) -> None:
        self.inner.configure(config)

    def _loopback_hook(self, mode: Loopback) -> None:
        self.inner.loopback(mode)

    def _control_fileno(self) -> int | None:
        return self.inner.control_fileno()

    def _poll_events(self) -> list[SpanEvent]:
        events = self.inner.poll_events()
        for event in events:
            log.debug("%s line %s %s %s", self.inner.address, event.kind, event.alarms.names(),
                      event.detail)
        return events

    def _dchannel_fileno(self) -> int:
        return self.inner.dchannel_fileno()

    def _read_dframe(self) -> bytes | None:
        frame = self.inner.read_dframe()
        if frame is not None:
            log.debug("%s rx %s", self.inner.address, frame.hex(" "))
        return frame

    def _write_dframe(self, frame: bytes) -> None:
        log.debug("%s tx %s", self.inner.address, frame.hex(" "))
        self.inner.write_dframe(frame)

    def _audio_fileno(self) -> int | None:
        return self.inner.audio_fileno()

    def _read_audio(self) -> dict[int, npt.NDArray[np.int16]] | None:
        return self.inner.read_audio()

    def _write_audio(self, frames: AudioFrames) -> None:
        self.inner.write_audio(frames)

    def alarms(self) -> SpanAlarms:
        return self.inner.alarms()

    def counters(self) -> SpanCounters:
        return self.inner.counters()

    def _close(self) -> None:
        self.inner.close()
