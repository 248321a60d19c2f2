"""Per-channel sources of outgoing audio: tones, prompts, raw sample buffers."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from appliance.media.dsp import FRAME_SAMPLES
from appliance.media.dsp.tones import ToneSpec, render_cycle


class SamplePlayer:
    """Plays int16 samples once (or looped), 160 at a time; the tail is padded with silence."""

    def __init__(
        self, samples: npt.NDArray[np.int16], *, loop: bool = False, max_samples: int | None = None
    ) -> None:
        if samples.dtype != np.int16 or samples.ndim != 1:
            raise ValueError(
                f"a player needs 1-D int16 samples, got {samples.dtype} {samples.shape}"
            )
        if loop and len(samples) == 0:
            raise ValueError("cannot loop an empty sample buffer")
        self._samples = samples
        self._loop = loop
        self._pos = 0
        self._remaining = max_samples

    @property
    def position(self) -> int:
        return self._pos

    def read(self) -> npt.NDArray[np.int16] | None:
        """The next 160 samples, or None once finished."""
        if self._remaining is not None and self._remaining <= 0:
            return None
        n = len(self._samples)
        if self._loop:
            idx = (self._pos + np.arange(FRAME_SAMPLES)) % n
            frame = self._samples[idx]
            self._pos = (self._pos + FRAME_SAMPLES) % n
        else:
            if self._pos >= n:
                return None
            frame = self._samples[self._pos : self._pos + FRAME_SAMPLES]
            self._pos += FRAME_SAMPLES
            if len(frame) < FRAME_SAMPLES:
                frame = np.concatenate([frame, np.zeros(FRAME_SAMPLES - len(frame), np.int16)])
        if self._remaining is not None:
            if self._remaining < FRAME_SAMPLES:
                frame = frame.copy()
                frame[self._remaining :] = 0
            self._remaining -= FRAME_SAMPLES
        return frame


def tone_player(spec: ToneSpec, dbm0: float, duration_s: float | None = None) -> SamplePlayer:
    """A looping player for a tone plan entry, optionally limited to ``duration_s``."""
    max_samples = None if duration_s is None else round(duration_s * 8000)
    return SamplePlayer(render_cycle(spec, dbm0), loop=True, max_samples=max_samples)
