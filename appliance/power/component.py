"""The power service inside appliance-powerd, and its view of telephonyd.

powerd asks telephonyd over its control socket whether it is healthy and,
when the battery runs low, to prepare for the power-off (docs/power.md). A
telephonyd that does not answer is unhealthy: the lifeline engages after
``power.telephony_timeout``; one that is not running at all (socket refused or
gone) engages it at once.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from appliance.config import ApplianceConfig
from appliance.config.sections.power import PowerSection
from appliance.power.service import PowerService, TelephonyDown
from appliance.runtime.control import ControlError, call_once
from appliance.runtime.service import Component, Service
from drivers.board import open_board
from drivers.errors import DriverError
from drivers.ups import open_ups
from drivers.watchdog import open_watchdog

log = logging.getLogger("appliance.power")

HEALTH_TIMEOUT = 1.0
T = TypeVar("T")


class TelephonyLink:
    """The three requests powerd makes of telephonyd."""

    def __init__(self, socket_path: str) -> None:
        self.socket_path = socket_path

    async def health(self) -> bool:
        try:
            answer = await call_once(self.socket_path, "telephony.health", timeout=HEALTH_TIMEOUT)
        except ControlError as exc:
            if isinstance(exc.__cause__, (ConnectionRefusedError, FileNotFoundError)):
                raise TelephonyDown(exc.message) from exc
            return False
        except (OSError, ValueError):
            return False
        return bool(answer.get("healthy"))

    async def prepare_shutdown(self, seconds: float) -> bool:
        try:
            answer = await call_once(
                self.socket_path,
                "telephony.prepare_shutdown",
                timeout=seconds + 1.0,
                deadline=seconds,
            )
        except (ControlError, OSError, ValueError):
            return False
        return bool(answer.get("flushed"))

    async def resume(self) -> None:
        try:
            await call_once(self.socket_path, "telephony.resume", timeout=HEALTH_TIMEOUT)
        except (ControlError, OSError, ValueError):
            return  # telephonyd answers health again on its own; nothing else to do


class PowerComponent(Component):
    name = "power"

    def __init__(self) -> None:
        self.power: PowerService | None = None
        self.missing: dict[str, str] = {}  # device -> why it could not be opened

    def _open(self, device: str, opener: Callable[[str], T], address: str) -> T | None:
        """A device that cannot be opened is left out and reported; the service runs
        without it in its safe state (no board: relays de-energised, i.e. lifeline)."""
        try:
            return opener(address)
        except DriverError as exc:
            log.error(
                "%s %s cannot be opened: %s",
                device,
                address,
                exc,
                extra={"device": device, "address": address},
            )
            self.missing[device] = str(exc)
            return None

    async def start(self, service: Service) -> None:
        config = service.config
        link = TelephonyLink(config.control_socket("telephonyd"))
        self.missing = {}
        self.power = PowerService(
            config.power,
            service.clock,
            ups=self._open("ups", open_ups, config.rig.ups),
            board=self._open("board", open_board, config.rig.board),
            watchdog=self._open("watchdog", open_watchdog, config.rig.watchdog),
            telephony_health=link.health,
            telephony_prepare_shutdown=link.prepare_shutdown,
            telephony_resume=link.resume,
            db=service.db,
            publish=lambda topic, data: self._publish(service, topic, data),
        )
        await self.power.start()
        service.control.register("power.status", self.power.handle_status, needs="power.read")
        service.control.register("power.history", self.power.handle_history,
                                  needs="power.read")
        service.control.register("power.test_lifeline", self.power.handle_test_lifeline,
                                  needs="power.test")

    # every [power] key but the lifeline pairs, which are wired to relays at start
    live_keys = frozenset(
        f"power.{f.name}" for f in dataclasses.fields(PowerSection) if f.name != "pairs")

    async def reconfigure(self, config: ApplianceConfig) -> None:
        if self.power is not None:
            await self.power.reconfigure(config.power)

    @staticmethod
    def _publish(service: Service, topic: str, data: dict[str, Any]) -> None:
        service.bus.publish(topic, **data)

    async def stop(self) -> None:
        if self.power is not None:
            await self.power.stop()

    def status(self) -> dict[str, Any]:
        status = self.power.status() if self.power is not None else {}
        return {**status, "missing_devices": self.missing}

    def healthy(self) -> bool:
        return self.power is not None and self.power.loop_healthy()[0]
