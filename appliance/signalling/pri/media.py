"""B-channels into the media engine (appliance.media.engine.MediaEngine).

Each answered B-channel becomes an engine channel named ``<span>/B<n>``;
frames received on the span are written as the channel's input, and the
channel's output of the last tick is what the span sends back. A span clocked
from its line is the engine's timing source (``MediaEngine.timing_tick``): its
block is one tick, so its audio goes back out in the block after the one it
came in with. Other spans' frames wait in the engine's slip buffer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from appliance.media.dsp import FRAME_SAMPLES
from appliance.media.engine import ChannelGroup, ChannelHandle, MediaEngine
from appliance.signalling.pri.call import PriCall

_SILENCE = np.zeros(FRAME_SAMPLES, np.int16)


def _counts(handle: ChannelHandle) -> dict[str, int]:
    return {"concealed": handle.missing_frames, "slips": handle.slips,
            "output_slips": handle.output_slips}


class EngineMediaPort:
    """A :class:`~appliance.signalling.pri.span.MediaPort` backed by the media engine."""

    def __init__(self, engine: MediaEngine, *, dtmf: bool = True) -> None:
        self.engine = engine
        self.dtmf = dtmf
        self.handles: dict[tuple[str, int], ChannelHandle] = {}
        self._ended: dict[tuple[str, int], Counter[str]] = {}  # counts of finished calls
        # per span: its open B-channels, in order, as one engine group (rebuilt on change)
        self._groups: dict[str, tuple[list[int], ChannelGroup]] = {}

    @staticmethod
    def channel_name(span: str, channel: int) -> str:
        return f"{span}/B{channel}"

    def open_channel(self, span: str, channel: int, call: PriCall) -> None:
        key = (span, channel)
        if key in self.handles:
            self.close_channel(span, channel)
        handle = self.engine.register(self.channel_name(span, channel), law="linear")
        if self.dtmf:
            self.engine.enable_dtmf(handle)
        self.handles[key] = handle
        self._groups.pop(span, None)

    def close_channel(self, span: str, channel: int) -> None:
        handle = self.handles.pop((span, channel), None)
        self._groups.pop(span, None)
        if handle is not None:
            self._ended.setdefault((span, channel), Counter()).update(_counts(handle))
            self.engine.unregister(handle)

    def frame_counts(self, span: str, channel: int) -> dict[str, int]:
        counts = Counter(self._ended.get((span, channel), {}))
        handle = self.handles.get((span, channel))
        if handle is not None:
            counts.update(_counts(handle))
        return dict(counts)

    def handle(self, span: str, channel: int) -> ChannelHandle | None:
        return self.handles.get((span, channel))

    def _group(self, span: str) -> tuple[list[int], ChannelGroup]:
        found = self._groups.get(span)
        if found is None:
            channels = sorted(ts for (name, ts) in self.handles if name == span)
            group = ChannelGroup(self.engine, [self.handles[(span, ts)] for ts in channels])
            found = self._groups[span] = (channels, group)
        return found

    def receive(self, span: str, frames: Mapping[int, npt.NDArray[np.int16]]) -> None:
        channels, group = self._group(span)
        if not channels:
            return
        silence = _SILENCE  # a frame the backend did not deliver (the span counts it missing)
        group.write_block(np.stack([frames.get(ts, silence) for ts in channels]))

    def timing(self, span: str, priority: int) -> None:
        self.engine.timing_tick(span, priority)

    def transmit(self, span: str, channels: Sequence[int]) -> dict[int, npt.NDArray[np.int16]]:
        carried, group = self._group(span)
        if not carried:
            return {}
        block = group.read_block()
        rows = {ts: row for row, ts in enumerate(carried)}
        return {ts: block[rows[ts]] for ts in channels if ts in rows}
