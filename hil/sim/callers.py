"""Simulated customers: callers who ring in on the E1 and carrier-line simulators.

A caller arrives at random (Poisson, mean ``interval`` seconds apart), rings
in on one of the ``trunks`` (an ``e1`` or ``pstn`` simulator of the same
rig), waits ``menu_wait`` seconds for the IVR menu, keys ``keys`` by DTMF,
and hangs up after a talk time drawn around ``talk`` seconds, or when its
``patience`` runs out. It only uses the simulators' own control sockets, as
a technician would with ``hil ctl``: the appliance sees ordinary calls.

Options: ``trunks`` (list of ``{"name": ..., "kind": "e1"|"pstn"}``),
``interval`` (s, default 20), ``talk`` (s, default 30), ``patience`` (s,
default 90), ``menu_wait`` (s, default 4), ``keys`` (default "1"),
``called`` (default "4000"), ``seed``, ``paused`` (start paused, default false).
Control: ``status``, ``pause {on}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from appliance.runtime.control import ControlError, ControlServer, call_once
from drivers.span.base import BCHANNELS
from hil.sim.guard import RIG_CONTROL
from hil.sim.process import SimulatedDevice, control_path, run_device

log = logging.getLogger("hil.sim.callers")


@dataclass(frozen=True)
class Trunk:
    name: str
    kind: str


class Callers(SimulatedDevice):
    device = "callers"

    def __init__(self, name: str, run_dir: str, options: dict[str, Any]) -> None:
        super().__init__(name, run_dir, options)
        trunks = options.get("trunks", [])
        if not isinstance(trunks, list) or not trunks:
            raise ValueError(
                f"callers {name}: 'trunks' must list at least one e1 or pstn simulator"
            )
        self.trunks = [Trunk(str(t["name"]), str(t["kind"])) for t in trunks]
        for trunk in self.trunks:
            if trunk.kind not in ("e1", "pstn"):
                raise ValueError(f"callers {name}: trunk {trunk.name}: kind must be 'e1' or 'pstn'")
        self.interval = float(options.get("interval", 20.0))
        self.talk = float(options.get("talk", 30.0))
        self.patience = float(options.get("patience", 90.0))
        self.menu_wait = float(options.get("menu_wait", 4.0))
        self.keys = str(options.get("keys", "1"))
        self.called = str(options.get("called", "4000"))
        self.rng = random.Random(options.get("seed", 7))
        self.paused = bool(options.get("paused", False))
        self.placed = 0
        self.finished = 0
        self.refused = 0
        self._busy: set[tuple[str, int]] = set()  # (trunk, B-channel or 0 for a line)

    def register(self, control: ControlServer) -> None:
        control.register("pause", self._pause, needs=RIG_CONTROL)

    async def _pause(self, params: dict[str, Any]) -> dict[str, Any]:
        on = params.get("on", True)
        if not isinstance(on, bool):
            raise ControlError("bad-params", "'on' must be true or false")
        self.paused = on
        return self.status()

    async def start(self) -> None:
        self.spawn(self._arrivals())

    async def _arrivals(self) -> None:
        while True:
            await asyncio.sleep(self.rng.expovariate(1.0 / self.interval))
            if not self.paused:
                self.spawn(self._one_caller(self.rng.choice(self.trunks)))

    def _ctl(self, trunk: Trunk) -> str:
        return control_path(self.run_dir, trunk.name)

    async def _one_caller(self, trunk: Trunk) -> None:
        number = f"138{self.rng.randrange(10**8):08d}"
        stay = min(self.patience, self.menu_wait + 10 + self.rng.expovariate(1.0 / self.talk))
        try:
            if trunk.kind == "e1":
                await self._e1_caller(trunk, number, stay)
            else:
                await self._line_caller(trunk, number, stay)
        except ControlError as exc:
            self.refused += 1
            log.info(
                "caller on %s not placed: %s", trunk.name, exc.message, extra={"trunk": trunk.name}
            )

    async def _e1_caller(self, trunk: Trunk, number: str, stay: float) -> None:
        free = [c for c in BCHANNELS if (trunk.name, c) not in self._busy]
        if not free:
            raise ControlError("refused", "every B-channel is in use")
        channel = self.rng.choice(free)
        self._busy.add((trunk.name, channel))
        try:
            placed = await call_once(
                self._ctl(trunk), "call", channel=channel, called=self.called, calling=number
            )
            self.placed += 1
            await asyncio.sleep(self.menu_wait)
            with contextlib.suppress(ControlError):  # the caller may be gone already
                await call_once(self._ctl(trunk), "dtmf", call=placed["call"], digits=self.keys)
            await asyncio.sleep(stay)
            with contextlib.suppress(ControlError):
                await call_once(self._ctl(trunk), "hangup", call=placed["call"])
            self.finished += 1
        finally:
            self._busy.discard((trunk.name, channel))

    async def _line_caller(self, trunk: Trunk, number: str, stay: float) -> None:
        if (trunk.name, 0) in self._busy:
            raise ControlError("refused", "the line is in use")
        self._busy.add((trunk.name, 0))
        try:
            await call_once(self._ctl(trunk), "ring", number=number)
            self.placed += 1
            await asyncio.sleep(self.menu_wait + 8)  # rings before answer, then the menu
            with contextlib.suppress(ControlError):
                await call_once(self._ctl(trunk), "dtmf", digits=self.keys)
            await asyncio.sleep(stay)
            with contextlib.suppress(ControlError):
                await call_once(self._ctl(trunk), "hangup")
            self.finished += 1
        finally:
            self._busy.discard((trunk.name, 0))

    def status(self) -> dict[str, Any]:
        return {
            "placed": self.placed,
            "finished": self.finished,
            "refused": self.refused,
            "in_progress": len(self._busy),
            "paused": self.paused,
        }


def main(argv: Sequence[str] | None = None) -> int:
    return run_device(Callers, argv)


if __name__ == "__main__":
    raise SystemExit(main())
