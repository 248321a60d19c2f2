"""The slip buffer between a driver's clock and the engine's tick.

A span or a port hands its frames over when its own clock says so; the engine
takes one per channel per tick. The two clocks are never in perfect phase (the
driver's block may land just after a tick, then two arrive before the next)
and, when they are plesiochronous, never at quite the same rate. Like the
elastic store of an E1 receiver (ITU-T G.704 / G.823 controlled slips), each
channel gets a short FIFO of frames:

* phase wander is absorbed: a frame that lands late is played at the next
  tick instead of being overwritten by its successor;
* a channel whose FIFO is empty at a tick is *missing* a frame: the engine
  plays silence there and counts it (an under-run slip);
* a frame arriving at a full FIFO pushes the oldest out: an over-run slip,
  counted. A clock faster than the tick shows as these, never as silence.

All channels' FIFOs are one array, so a tick takes every waiting frame in one
vectorised gather.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from appliance.media.dsp import FRAME_SAMPLES

DEPTH = 4  # frames (80 ms): more than a scheduling hiccup, less than an audible delay


class SlipBuffer:
    """One FIFO of up to ``depth`` 160-sample frames per engine slot."""

    def __init__(self, capacity: int, depth: int = DEPTH) -> None:
        if depth < 2:
            raise ValueError(f"a slip buffer needs room for at least 2 frames, got {depth}")
        self.depth = depth
        self._frames = np.zeros((capacity, depth, FRAME_SAMPLES), np.int16)
        self._head = np.zeros(capacity, np.intp)
        self._count = np.zeros(capacity, np.intp)
        self.slips = np.zeros(capacity, np.int64)  # over-run slips per slot since it was cleared

    def clear(self, slot: int) -> None:
        """Forget a slot's frames and counters (its channel was registered or removed)."""
        self._head[slot] = 0
        self._count[slot] = 0
        self.slips[slot] = 0

    def queued(self, slot: int) -> int:
        return int(self._count[slot])

    def push(self, slots: npt.NDArray[np.intp], frames: npt.NDArray[np.int16]) -> int:
        """Queue ``frames[i]`` on ``slots[i]`` (distinct slots); returns the over-run slips."""
        full = slots[self._count[slots] >= self.depth]
        if len(full):  # drop the oldest frame of each full FIFO
            self._head[full] = (self._head[full] + 1) % self.depth
            self._count[full] -= 1
            self.slips[full] += 1
        tail = (self._head[slots] + self._count[slots]) % self.depth
        self._frames[slots, tail] = frames
        self._count[slots] += 1
        return len(full)

    def push_one(self, slot: int, frame: npt.NDArray[np.int16]) -> int:
        """:meth:`push` for one slot (a port's or a SIP leg's frame): scalar bookkeeping,
        1.2 us a frame against 15 us for the vectorised path; returns the slips."""
        head, count = int(self._head[slot]), int(self._count[slot])
        slipped = 0
        if count >= self.depth:  # drop the oldest frame
            head = (head + 1) % self.depth
            self._head[slot] = head
            count -= 1
            self.slips[slot] += 1
            slipped = 1
        self._frames[slot, (head + count) % self.depth] = frame
        self._count[slot] = count + 1
        return slipped

    def pop_into(self, target: npt.NDArray[np.int16]) -> npt.NDArray[np.intp]:
        """Move the oldest frame of every non-empty FIFO into ``target[slot]``; returns the
        slots that had one."""
        slots = np.flatnonzero(self._count)
        if len(slots):
            heads = self._head[slots]
            target[slots] = self._frames[slots, heads]
            self._head[slots] = (heads + 1) % self.depth
            self._count[slots] -= 1
        return slots
