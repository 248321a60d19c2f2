"""Keeps the hourly statistics cache current inside appliance-telephonyd.

Reports open the database read-only, so the daemon (which may write) brings
``stats_queue_hour`` up to the last closed hour: at start and every
``REFRESH_SECONDS`` after, in a worker thread with a connection of its own so
the call path never waits for it. The cache is derived from ``queue_log``
only (docs/statistics.md "Hourly cache"); a report that cannot use it reads
the raw events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from appliance.config import ApplianceConfig
from appliance.runtime.service import Component, Service
from appliance.stats.cache import refresh_queue_cache
from appliance.stats.errors import StatsError
from appliance.store import open_database

log = logging.getLogger("appliance.stats")

REFRESH_SECONDS = 300.0


def threshold_pairs(config: ApplianceConfig) -> set[tuple[float, float]]:
    """Every (service level, short abandon) pair a report of this site asks for."""
    stats = config.stats
    pairs = {(stats.sl_seconds, stats.short_abandon)}
    pairs.update((q.sl_seconds, q.short_abandon) for q in stats.queues.values())
    return pairs


def refresh(database: str, pairs: set[tuple[float, float]]) -> float | None:
    db = open_database(database)
    try:
        return refresh_queue_cache(db, sorted(pairs))
    finally:
        db.conn.close()


class StatsCacheComponent(Component):
    name = "stats"

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None
        self.cached_until: float | None = None
        self.refreshes = 0

    async def start(self, service: Service) -> None:
        self._task = asyncio.create_task(self._loop(service))

    async def _loop(self, service: Service) -> None:
        while True:
            try:
                self.cached_until = await asyncio.to_thread(
                    refresh, service.config.paths.database_path, threshold_pairs(service.config)
                )
                self.refreshes += 1
            except (StatsError, OSError) as exc:
                log.error("statistics cache not refreshed: %s", exc)
            await service.clock.sleep(REFRESH_SECONDS)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def status(self) -> dict[str, Any]:
        return {"cached_until": self.cached_until, "refreshes": self.refreshes}
