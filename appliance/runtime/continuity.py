"""telephonyd's side of power continuity (PWR-2): health and orderly shutdown on request.

appliance-powerd polls ``telephony.health`` and, when the battery runs low,
asks ``telephony.prepare_shutdown``: every component stops taking new work and
closes its files (recordings), then the database is checkpointed so the main
file holds everything. ``telephony.resume`` undoes it when mains returns in
time. Methods and shapes: docs/control-protocol.md.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from appliance.runtime.control import ControlError
from appliance.runtime.service import Component, Service

log = logging.getLogger("appliance.runtime.continuity")


class ContinuityComponent(Component):
    """Serves telephony.health / prepare_shutdown / resume for the whole daemon; start it last."""

    name = "continuity"

    def __init__(self) -> None:
        self._service: Service | None = None
        self.draining = False

    async def start(self, service: Service) -> None:
        self._service = service
        service.control.register("telephony.health", self._health, needs="status.read")
        service.control.register("telephony.prepare_shutdown", self._prepare,
                                  needs="power.control")
        service.control.register("telephony.resume", self._resume, needs="power.control")

    async def _health(self, params: dict[str, Any]) -> dict[str, Any]:
        assert self._service is not None
        detail = {c.name: c.healthy() for c in self._service.components}
        return {"healthy": self._service.healthy(), "draining": self.draining, "detail": detail}

    async def _prepare(self, params: dict[str, Any]) -> dict[str, Any]:
        assert self._service is not None
        deadline = params.get("deadline", 30.0)
        if isinstance(deadline, bool) or not isinstance(deadline, int | float) or deadline <= 0:
            raise ControlError("bad-params", "'deadline' must be a positive number of seconds")
        self.draining = True
        closed: dict[str, int] = {}
        try:
            async with asyncio.timeout(deadline):
                for component in self._service.components:
                    if component is not self:
                        for key, count in (await component.prepare_shutdown()).items():
                            closed[key] = closed.get(key, 0) + count
                flushed = self._checkpoint()
        except TimeoutError:
            log.error("prepare for shutdown overran its deadline", extra={"deadline": deadline})
            return {"flushed": False, **closed}
        log.warning("prepared for power-off: new calls refused, files closed", extra=closed)
        self._service.bus.publish("telephony.prepared", **closed)
        return {"flushed": flushed, **closed}

    def _checkpoint(self) -> bool:
        """Fold the WAL into the main database file so a power cut loses nothing."""
        assert self._service is not None
        if self._service.db is None:
            return False
        busy, _, _ = self._service.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return bool(busy == 0)

    async def _resume(self, params: dict[str, Any]) -> dict[str, Any]:
        assert self._service is not None
        self.draining = False
        for component in self._service.components:
            if component is not self:
                await component.resume()
        self._service.bus.publish("telephony.resumed")
        return {"resumed": True}
