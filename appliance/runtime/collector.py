"""The cyclic garbage collector kept out of the media tick's way (issue 13: no tick late by
more than 10 ms while the control sockets are flooded).

CPython's collector runs whenever allocations cross its thresholds, wherever that happens,
inside a media tick too, and a full (generation 2) collection walks every tracked object.
With a daemon's start-up heap (modules, configuration, numpy, the libpri bindings: about
40,000 objects) one such pass took 14-21 ms; a connection flood, whose tasks and exceptions
leave reference cycles, triggered it and made a tick 18-28 ms late.

Once a daemon has started, its start-up heap lives as long as it does, so it is frozen
(``gc.freeze``, Python 3.7: moved to the permanent generation, which no collection walks).
Later collections walk only objects made since. An object of the start-up heap that later becomes
cyclic garbage is never freed; start-up objects replaced by a reload are freed by reference
counting unless they are in a cycle, so at most a few objects per reload.

Every collection's pause is measured (``gc.callbacks``) and the worst one is shown in the
daemon's ``status`` beside the stall detector's figures.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any


class CollectorWatch:
    """Freezes the start-up heap and measures each collection's pause."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.clock = clock  # a monotonic seconds clock (pauses are measured, not scheduled)
        self.frozen = 0  # objects moved to the permanent generation at start-up
        self.collections = [0, 0, 0]  # per generation, since start
        self.collected = 0  # unreachable objects freed
        self.worst_pause_s = 0.0
        self.worst_generation: int | None = None
        self._started: float | None = None
        self._watching = False

    def start(self) -> None:
        if not self._watching:
            gc.callbacks.append(self._callback)
            self._watching = True

    def freeze_startup_heap(self) -> int:
        """Collect once, then freeze what is left: it lives as long as the daemon."""
        gc.collect()
        gc.freeze()
        self.frozen = gc.get_freeze_count()
        return self.frozen

    def stop(self) -> None:
        if self._watching:
            gc.callbacks.remove(self._callback)
            self._watching = False
        gc.unfreeze()  # back to the oldest generation (an in-process test's heap is freed)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = self.clock()
            return
        if self._started is None:
            return
        pause = self.clock() - self._started
        self._started = None
        generation = info["generation"]
        self.collections[generation] += 1
        self.collected += info["collected"]
        if pause > self.worst_pause_s:
            self.worst_pause_s = pause
            self.worst_generation = generation

    def status(self) -> dict[str, Any]:
        return {"frozen": self.frozen, "collections": list(self.collections),
                "collected": self.collected,
                "worst_pause_ms": round(self.worst_pause_s * 1000, 2),
                "worst_generation": self.worst_generation}
