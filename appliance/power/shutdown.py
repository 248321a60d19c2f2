"""The orderly shutdown (PWR-2): telephonyd closes recordings and flushes, then the command runs.

Sequence, each step logged and timed: (1) the lifeline is already engaged by
the policy; (2) telephonyd is asked to stop new calls, close every recording
and flush the database, and has ``prepare_deadline`` seconds to acknowledge;
(3) the point of no return: the configured command runs (``systemctl
poweroff`` on the box). Until step 3 the sequence can be cancelled (mains
back): telephonyd is then told to resume, when a resume callable is given.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from appliance.runtime.clock import Clock

log = logging.getLogger("appliance.power")

T = TypeVar("T")


async def within(
    clock: Clock, seconds: float, coro: Awaitable[T]
) -> tuple[bool, T | None]:
    """Run ``coro`` for at most ``seconds`` of ``clock``: (finished, result).

    The coroutine's own exception propagates; on time-out it is cancelled.
    """
    task: asyncio.Task[T] = asyncio.ensure_future(coro)
    timer: asyncio.Task[None] = asyncio.ensure_future(clock.sleep(seconds))
    try:
        await asyncio.wait({task, timer}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        task.cancel()
        raise
    finally:
        timer.cancel()
    if task.done():
        return True, task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return False, None


async def run_command(argv: list[str], timeout: float) -> int:
    """The shutdown command as a subprocess (real time); its exit status, -1 if it hung."""
    log.critical("power: running the shutdown command: %s", " ".join(argv))
    try:
        process = await asyncio.create_subprocess_exec(*argv)
    except OSError as exc:
        log.critical("power: cannot run the shutdown command %s: %s", argv[0], exc)
        return -1
    try:
        return await asyncio.wait_for(process.wait(), timeout)
    except TimeoutError:
        log.critical("power: shutdown command %s still running after %.0f s", argv[0], timeout)
        return -1


CommandRunner = Callable[[list[str], float], Awaitable[int]]
