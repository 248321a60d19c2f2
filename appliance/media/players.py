"""Per-channel sources of outgoing audio (tones, prompts, raw sample buffers) and their
reading, grouped by buffer, once per tick."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from appliance.media.dsp import FRAME_SAMPLES
from appliance.media.dsp.tones import ToneSpec, render_cycle


class SamplePlayer:
    """Int16 samples played once (or looped) on a channel, 160 a tick (by its
    :class:`PlayerGroup`); the tail is padded with silence."""

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
    def samples(self) -> npt.NDArray[np.int16]:
        return self._samples

    @property
    def loop(self) -> bool:
        return self._loop


_FRAME = np.arange(FRAME_SAMPLES)
_UNLIMITED = np.iinfo(np.int64).max


class PlayerGroup:
    """The players of one sample buffer (all looping, or all once, all mixed or not), read
    for every channel in one gather per tick: 90 callers on the same music on hold or the
    same prompt cost one numpy pass, not 90 (issue 14 item 4). The positions live here
    while the group stands; :meth:`sync` hands them back to the players before the
    engine regroups (a playback started, stopped or finished)."""

    def __init__(self, slots: list[int], players: list[SamplePlayer], *, mix: bool) -> None:
        first = players[0]
        self.loop, self.mix = first.loop, mix
        self.length = len(first.samples)
        # played once: one zero past the end, where every index beyond it is clamped
        self.samples = first.samples if first.loop else np.append(first.samples, np.int16(0))
        self.slots = np.array(slots, np.intp)
        self.players = players
        self.pos = np.array([p._pos for p in players], np.int64)
        self.remaining = np.array([_UNLIMITED if p._remaining is None else p._remaining
                                   for p in players], np.int64)

    def read(self) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.bool_]]:
        """This tick's frame of every player (rows as ``slots``) and which have finished
        (their row is silence): the tail past a buffer or a duration is padded with it."""
        done = self.remaining <= 0
        if self.loop:
            index = (self.pos[:, None] + _FRAME) % self.length
            self.pos = (self.pos + FRAME_SAMPLES) % self.length
        else:
            done |= self.pos >= self.length
            index = np.minimum(self.pos[:, None] + _FRAME, self.length)
            self.pos = self.pos + FRAME_SAMPLES
        frames = self.samples[index]
        short = self.remaining < FRAME_SAMPLES
        if short.any():  # a duration ends inside this frame: silence after it
            frames[short[:, None] & (self.remaining[:, None] <= _FRAME)] = 0
        self.remaining = np.where(self.remaining == _UNLIMITED, _UNLIMITED,
                                  self.remaining - FRAME_SAMPLES)
        return frames, done

    def sync(self) -> None:
        """Hand the positions back to the players."""
        for player, pos, remaining in zip(self.players, self.pos, self.remaining, strict=True):
            player._pos = int(pos)
            player._remaining = None if remaining == _UNLIMITED else int(remaining)


def group_players(players: dict[int, tuple[SamplePlayer, bool]]) -> list[PlayerGroup]:
    """slot -> (player, mix) grouped by sample buffer, looping and mixing."""
    groups: dict[tuple[int, bool, bool], tuple[list[int], list[SamplePlayer]]] = {}
    for slot, (player, mix) in players.items():
        slots, members = groups.setdefault((id(player.samples), player.loop, mix), ([], []))
        slots.append(slot)
        members.append(player)
    return [PlayerGroup(slots, members, mix=key[2]) for key, (slots, members) in groups.items()]


def tone_player(spec: ToneSpec, dbm0: float, duration_s: float | None = None) -> SamplePlayer:
    """A looping player for a tone plan entry, optionally limited to ``duration_s``."""
    max_samples = None if duration_s is None else round(duration_s * 8000)
    return SamplePlayer(render_cycle(spec, dbm0), loop=True, max_samples=max_samples)
