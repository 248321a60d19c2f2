"""Shared rig for the power service tests: real drivers, hil simulators, a virtual clock."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from appliance.config.sections.power import PowerSection
from appliance.config.validate import Problem, build
from appliance.power import PowerService
from appliance.power.service import TelephonyDown
from appliance.runtime.clock import VirtualClock
from drivers.board import open_board
from drivers.ups import Ups, open_ups
from drivers.watchdog import Watchdog
from hil.sim.mains import build_rig
from hil.sim.ups import MegatecPty

MIGRATION = os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "appliance", "store", "migrations",
    "0003_power_events.sql",
)


def power_database(path: str) -> sqlite_utils.Database:
    """A database with the power_events migration applied directly (sqlite3)."""
    db = sqlite_utils.Database(path)
    with open(MIGRATION, encoding="utf-8") as handle:
        db.conn.executescript(handle.read())
    return db


async def inline(fn: Callable[[], Any]) -> Any:
    return fn()


class InProcessWatchdog(Watchdog):
    """The driver contract on top of the simulated device, without a socket."""

    def __init__(self, device: Any) -> None:
        super().__init__("inproc")
        self.device = device

    def _open(self) -> None:
        self.device.open()

    def _write(self, data: bytes) -> None:
        self.device.write(data)

    def _close(self) -> None:
        self.device.close()


@dataclass
class FakeTelephony:
    clock: VirtualClock
    healthy: bool = True
    running: bool = True  # False: the control socket refuses, as after kill -9
    ack: bool = True
    prepare_takes: float = 2.0
    prepares: list[tuple[float, float]] = field(default_factory=list)
    resumed: int = 0

    async def health(self) -> bool:
        if not self.running:
            raise TelephonyDown("telephony.sock: Connection refused")
        return self.healthy

    async def prepare(self, deadline: float) -> bool:
        self.prepares.append((self.clock.monotonic(), deadline))
        await self.clock.sleep(self.prepare_takes)
        return self.ack

    async def resume(self) -> None:
        self.resumed += 1


def config(**overrides: Any) -> PowerSection:
    data: dict[str, Any] = {
        "ups_poll_interval": 1.0, "rail_poll_interval": 0.05, "low_runtime": 120.0,
        "telephony_timeout": 5.0, "prepare_deadline": 30.0,
        "shutdown_command": ["/sbin/poweroff-test"], "relay_check_interval": 0.5,
    }
    data.update(overrides)
    problems: list[Problem] = []
    section = build(PowerSection, data, ("power",), problems)
    assert not problems, problems
    return section


class Rig:
    """Board, UPS (Megatec on a pty), watchdog and mains, all on one virtual clock."""

    def __init__(self, tmp: str, *, with_ups: bool = True, **overrides: Any) -> None:
        self.clock = VirtualClock()
        self.mains, self.sim_ups, self.sim_board, self.sim_watchdog = build_rig(
            now=self.clock.monotonic, watchdog_timeout=3.0
        )
        # a small battery so a whole discharge takes minutes of virtual time
        self.sim_ups.runtime_full_load, self.sim_ups.runtime_half_load = 100.0, 300.0
        self.sim_ups.load = 50.0
        self.pty = MegatecPty(self.sim_ups)
        self.ups: Ups | None = None
        if with_ups:
            self.ups = open_ups(
                f"serial:{self.pty.port}?protocol=megatec&timeout=0.2&runtimecal=100,100,300,50",
                now=self.clock.monotonic,
            )
        self.board = open_board("sim:", bus=self.sim_board, sleep=lambda s: None)
        self.watchdog = InProcessWatchdog(self.sim_watchdog)
        self.telephony = FakeTelephony(self.clock)
        self.commands: list[tuple[float, list[str]]] = []
        self.db = power_database(os.path.join(tmp, "appliance.db"))
        self.service = PowerService(
            config(**overrides), self.clock, ups=self.ups, board=self.board,
            watchdog=self.watchdog, telephony_health=self.telephony.health,
            telephony_prepare_shutdown=self.telephony.prepare,
            telephony_resume=self.telephony.resume, db=self.db, io=inline,
            command_runner=self.run_command,
        )

    async def run_command(self, argv: list[str], timeout: float) -> int:
        self.commands.append((self.clock.monotonic(), argv))
        return 0

    async def run(self, seconds: float) -> None:
        """Advance virtual time, letting every task run at each timer."""
        end = self.clock.monotonic() + seconds
        while True:
            for _ in range(30):
                await asyncio.sleep(0)
            deadline = self.clock.next_deadline()
            if deadline is None or deadline > end:
                break
            self.clock.run_until(deadline)
        self.clock.run_until(end)
        for _ in range(30):
            await asyncio.sleep(0)

    async def run_until(self, predicate: Callable[[], bool], limit: float, step: float = 0.01
                        ) -> float:
        """Advance until ``predicate`` holds; the virtual time it took."""
        start = self.clock.monotonic()
        while not predicate():
            if self.clock.monotonic() - start > limit:
                raise AssertionError(f"condition not met within {limit} s of virtual time")
            await self.run(step)
        return self.clock.monotonic() - start

    def energised(self) -> list[bool]:
        return [self.sim_board.relay_energised(i) for i in range(len(self.sim_board.pairs))]

    def states(self) -> list[tuple[str, str]]:
        rows = self.db.execute("SELECT state, reason FROM power_events ORDER BY id").fetchall()
        return [(r[0], r[1]) for r in rows]

    def close(self) -> None:
        self.pty.close()
