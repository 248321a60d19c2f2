"""Event-loop stall detector (issue 13 "a loop-stall detector logs and counts any stall over
50 ms").

A task asks to wake every :data:`PROBE_S` seconds and measures how late it woke: a late wake
means something held the loop (a blocking call, a long computation in a handler, a flood of
buffered requests). Every stall above the threshold is logged with its length and counted;
``status`` shows the count and the worst, so a field engineer sees that the daemon stalled
even when no tick was visibly late.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger("appliance.runtime.stall")

SCHEDSTAT = "/proc/thread-self/schedstat"  # cpu ns, run-queue wait ns, slices (sched-stats.rst)
PROBE_S = 0.01  # how often the probe asks to run
THRESHOLD_S = 0.05  # a wake later than this is a stall


def run_queue_wait() -> float | None:
    """Seconds this thread has waited for a CPU since it started (procfs: memory, no disk)."""
    try:
        with open(SCHEDSTAT, "rb") as stat:
            return int(stat.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return None


class StallDetector:
    def __init__(self, clock: Callable[[], float], *, threshold_s: float = THRESHOLD_S,
                 probe_s: float = PROBE_S) -> None:
        self.clock = clock  # the loop's own clock (loop.time), or a test's
        self.threshold_s = threshold_s
        self.probe_s = probe_s
        self.stalls = 0
        self.worst_s = 0.0
        self.last_at: float | None = None
        self.blocked = 0  # stalls our own code caused (not waiting for a CPU)
        self.worst_blocked_s = 0.0

    def observe(self, due: float, woke: float, waited_s: float | None) -> None:
        """The probe was due at ``due`` and ran at ``woke`` (both on :attr:`clock`); the loop's
        thread waited ``waited_s`` meanwhile on a run queue for a CPU (schedstat; None when
        unknown). A stall mostly spent waiting for a CPU is *starved* (other processes, a
        hypervisor's steal); any other is *blocked*: our own code held the loop, computing
        or in a blocking call. Both count, apart."""
        late = woke - due
        if late <= self.threshold_s:
            return
        self.stalls += 1
        self.worst_s = max(self.worst_s, late)
        self.last_at = woke
        held = late - (waited_s or 0.0)  # the part the loop's own thread is to blame for
        blocked = waited_s is None or held > self.threshold_s
        if blocked:
            self.blocked += 1
            self.worst_blocked_s = max(self.worst_blocked_s, held)
        log.warning("event loop stalled for %.0f ms (stall %d, %s)", late * 1000, self.stalls,
                    f"blocked {held * 1000:.0f} ms" if blocked else
                    f"starved: {(waited_s or 0.0) * 1000:.0f} ms waiting for a CPU")

    async def run(self) -> None:
        while True:
            due = self.clock() + self.probe_s
            before = run_queue_wait()
            await asyncio.sleep(self.probe_s)
            after = run_queue_wait()
            waited = after - before if before is not None and after is not None else None
            self.observe(due, self.clock(), waited)

    def status(self) -> dict[str, Any]:
        return {"stalls": self.stalls, "worst_ms": round(self.worst_s * 1000, 1),
                "blocked": self.blocked,
                "worst_blocked_ms": round(self.worst_blocked_s * 1000, 1),
                "threshold_ms": round(self.threshold_s * 1000, 1)}
