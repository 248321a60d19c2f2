"""Injectable clocks (DESIGN "Time").

Everything above drivers/ takes time from a :class:`Clock`. On the box it is a
:class:`RealClock`; in tests and the traffic simulator it is a
:class:`VirtualClock`, which only moves when told to, so a day of traffic can be
replayed in seconds and timer behaviour is exact.

Two notions of time are offered, as on a real system:
``monotonic()`` for durations and timers (never jumps), and ``time()`` for
wall-clock timestamps written to records (Unix epoch seconds, UTC).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time as _time
from collections.abc import Callable
from typing import Any, Protocol


class TimerHandle(Protocol):
    """A scheduled callback that can be cancelled before it fires."""

    def cancel(self) -> None: ...

    def cancelled(self) -> bool: ...


class Clock(Protocol):
    """The time source every component above the drivers uses."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards (for durations, timers)."""
        ...

    def time(self) -> float:
        """Wall-clock seconds since the Unix epoch (for timestamps in records)."""
        ...

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> TimerHandle:
        """Run ``callback(*args)`` after ``delay`` seconds of this clock."""
        ...

    async def sleep(self, delay: float) -> None:
        """Suspend the calling coroutine for ``delay`` seconds of this clock."""
        ...


class RealClock:
    """The system clocks, with timers on the running asyncio loop."""

    def monotonic(self) -> float:
        return _time.monotonic()

    def time(self) -> float:
        return _time.time()

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> TimerHandle:
        return asyncio.get_running_loop().call_later(max(0.0, delay), callback, *args)

    async def sleep(self, delay: float) -> None:
        await asyncio.sleep(max(0.0, delay))


class VirtualTimer:
    """A timer on a :class:`VirtualClock`."""

    __slots__ = ("_args", "_callback", "_cancelled", "when")

    def __init__(self, when: float, callback: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.when = when
        self._callback = callback
        self._args = args
        self._cancelled = False

    def cancel(self) -> None:
        self._cancelled = True

    def cancelled(self) -> bool:
        return self._cancelled

    def _fire(self) -> None:
        if not self._cancelled:
            self._cancelled = True  # a timer fires at most once
            self._callback(*self._args)


class VirtualClock:
    """A clock that moves only when :meth:`advance` or :meth:`run_until` is called.

    Timers fire in time order, ties in the order they were scheduled, and a
    callback may schedule further timers (they fire within the same advance if
    due). ``time()`` is ``epoch + monotonic()`` so records carry plausible dates.
    """

    def __init__(self, start: float = 0.0, epoch: float = 1_767_225_600.0) -> None:
        # epoch default: 2026-01-01T00:00:00Z
        self._now = start
        self._epoch = epoch
        self._queue: list[tuple[float, int, VirtualTimer]] = []
        self._seq = itertools.count()

    def monotonic(self) -> float:
        return self._now

    def time(self) -> float:
        return self._epoch + self._now

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> VirtualTimer:
        return self.call_at(self._now + max(0.0, delay), callback, *args)

    def call_at(self, when: float, callback: Callable[..., Any], *args: Any) -> VirtualTimer:
        timer = VirtualTimer(max(when, self._now), callback, args)
        heapq.heappush(self._queue, (timer.when, next(self._seq), timer))
        return timer

    async def sleep(self, delay: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not future.done():
                future.set_result(None)

        self.call_later(delay, wake)
        await future

    def next_deadline(self) -> float | None:
        """Time of the earliest pending timer, or None when nothing is scheduled."""
        while self._queue and self._queue[0][2].cancelled():
            heapq.heappop(self._queue)
        return self._queue[0][0] if self._queue else None

    def run_until(self, when: float) -> int:
        """Fire every timer due up to ``when``, then set the clock to ``when``.

        Returns the number of timers fired.
        """
        fired = 0
        while True:
            deadline = self.next_deadline()
            if deadline is None or deadline > when:
                break
            _, _, timer = heapq.heappop(self._queue)
            self._now = max(self._now, timer.when)
            timer._fire()
            fired += 1
        self._now = max(self._now, when)
        return fired

    def advance(self, seconds: float) -> int:
        """Move the clock forward by ``seconds``, firing due timers in order."""
        if seconds < 0:
            raise ValueError(f"a clock cannot go backwards (advance by {seconds})")
        return self.run_until(self._now + seconds)

    def run_all(self, limit: float = float("inf")) -> int:
        """Fire timers until none is left or the next one lies beyond ``limit``."""
        fired = 0
        while (deadline := self.next_deadline()) is not None and deadline <= limit:
            fired += self.run_until(deadline)
        return fired
