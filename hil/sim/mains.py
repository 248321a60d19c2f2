"""Mains power for the rig: one switch that drives the UPS, the input rail and the board together.

Switching mains off, as on a real bench when the breaker trips:

- the input rail the INA219 watches (fed straight from mains through its own
  adapter) collapses at once, so the board sees the loss first;
- the UPS goes on battery (Megatec simulator: utility-fail bit; NUT's
  dummy-ups: ``ups.status: OB DISCHRG`` written to its .dev file);
- the UPS battery then discharges on the simulator's clock.

:class:`Mains` does it in-process for tests. :class:`PowerRig` runs the same
parts as one hil simulator process (``python -m hil.sim.mains --name power
--run-dir DIR``) for the demo rig: the Megatec UPS on a pty, the board's
I2C bus on ``DIR/NAME.board.sock``, the watchdog on ``DIR/NAME.watchdog.sock``,
the UPS pty linked at ``DIR/NAME.ups.tty`` (config: ``sim:DIR/NAME.ups.tty``),
and control methods ``mains`` ({"on": bool}), ``hook`` ({"pair": n,
"off_hook": bool}), ``fault`` (UPS reply mode, I2C NACK/bus error, stuck
relay) and ``status`` (which includes the UPS pty path for the config).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from hil.sim.board import BoardServer, SimBoard, program_identity
from hil.sim.guard import RIG_CONTROL
from hil.sim.ups import MegatecPty, MegatecUps
from hil.sim.watchdog import SimWatchdog, WatchdogServer


class NutDevFile:
    """A dummy-ups ``.dev`` file (NUT dummy-ups(8), dummy-once mode): rewritten on each change.

    dummy-ups re-reads the file when its modification time changes, so every
    write moves the mtime forward by at least a second.
    """

    def __init__(self, path: str, values: dict[str, str] | None = None) -> None:
        self.path = path
        self.values: dict[str, str] = {
            "device.type": "ups", "device.mfr": "HIL Power", "device.model": "NUT-1500",
            "ups.status": "OL", "battery.charge": "100", "battery.runtime": "1800",
            "input.voltage": "230.0", "ups.load": "30",
        }
        self.values.update(values or {})
        self._mtime = time.time() - 100.0
        self.write()

    def write(self) -> None:
        text = "".join(f"{k}: {v}\n" for k, v in self.values.items())
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="ascii") as handle:
            handle.write(text)
        os.replace(tmp, self.path)
        self._mtime = max(self._mtime + 1.0, time.time())
        os.utime(self.path, (self._mtime, self._mtime))

    def update(self, **values: str) -> None:
        self.values.update({k.replace("_", "."): v for k, v in values.items()})
        self.write()

    def set(self, values: dict[str, str]) -> None:
        self.values.update(values)
        self.write()


class Mains:
    """The mains switch of an in-process rig."""

    def __init__(
        self,
        *,
        ups: MegatecUps | None = None,
        board: SimBoard | None = None,
        nut: NutDevFile | None = None,
        rail_volts: float = 12.0,
    ) -> None:
        self.ups = ups
        self.board = board
        self.nut = nut
        self.rail_volts = rail_volts
        self.on = True
        self.changes: list[tuple[bool, float]] = []

    def set(self, on: bool) -> None:
        self.on = on
        self.changes.append((on, time.monotonic()))
        if self.board is not None:
            self.board.set_rail(self.rail_volts if on else 0.0, 0.8 if on else 0.0)
        if self.ups is not None:
            self.ups.set_mains(on)
        if self.nut is not None:
            self.nut.set({"ups.status": "OL CHRG" if on else "OB DISCHRG",
                          "input.voltage": "230.0" if on else "0.0"})

    def off(self) -> None:
        self.set(False)

    def restore(self) -> None:
        self.set(True)


def build_rig(
    now: Callable[[], float] = time.monotonic, watchdog_timeout: float = 2.0, pairs: int = 4
) -> tuple[Mains, MegatecUps, SimBoard, SimWatchdog]:
    """A UPS, a board with its EEPROM programmed and a watchdog, all on one clock."""
    from hil.sim.board import RelayPins

    watchdog = SimWatchdog(watchdog_timeout, now=now)
    board = SimBoard([RelayPins(i, i, 4 + i) for i in range(pairs)], now=now, watchdog=watchdog)
    program_identity(board)
    ups = MegatecUps(now=now)
    return Mains(ups=ups, board=board), ups, board, watchdog


# ---- the simulator process -----------------------------------------------------------------
def _rig_device() -> Any:
    from appliance.runtime.control import ControlError, ControlServer
    from hil.sim.process import SimulatedDevice

    class PowerRig(SimulatedDevice):
        device = "mains"

        def __init__(self, name: str, run_dir: str, options: dict[str, Any]) -> None:
            super().__init__(name, run_dir, options)
            self.mains, self.ups, self.board, self.watchdog = build_rig(
                watchdog_timeout=float(options.get("watchdog_timeout", 2.0)),
                pairs=int(options.get("pairs", 4)),
            )
            self.pty: MegatecPty | None = None
            self.board_server: BoardServer | None = None
            self.watchdog_server: WatchdogServer | None = None

        def register(self, control: ControlServer) -> None:
            control.register("mains", self._mains, needs=RIG_CONTROL)
            control.register("hook", self._hook, needs=RIG_CONTROL)
            control.register("fault", self._fault, needs=RIG_CONTROL)

        async def _mains(self, params: dict[str, Any]) -> dict[str, Any]:
            on = params.get("on")
            if not isinstance(on, bool):
                raise ControlError("bad-params", "'on' must be true or false")
            self.mains.set(on)
            return self.status()

        async def _hook(self, params: dict[str, Any]) -> dict[str, Any]:
            pair, off_hook = params.get("pair"), params.get("off_hook")
            if not isinstance(pair, int) or not 0 <= pair < len(self.board.pairs):
                raise ControlError("bad-params", f"'pair' must be 0-{len(self.board.pairs) - 1}")
            if not isinstance(off_hook, bool):
                raise ControlError("bad-params", "'off_hook' must be true or false")
            (self.board.off_hook.add if off_hook else self.board.off_hook.discard)(pair)
            return self.status()

        async def _fault(self, params: dict[str, Any]) -> dict[str, Any]:
            mode = params.get("ups_reply")
            if mode is not None:
                if mode not in ("normal", "silent", "truncated", "garbage"):
                    raise ControlError("bad-params", "'ups_reply' must be normal, silent, "
                                                     "truncated or garbage")
                self.ups.reply_mode = mode
            if "bus_error" in params:
                self.board.bus_error = bool(params["bus_error"])
            if "nack" in params:
                nack = params["nack"]
                if not isinstance(nack, list) or not all(isinstance(a, int) for a in nack):
                    raise ControlError("bad-params", "'nack' must be a list of I2C addresses")
                self.board.nack = set(nack)
            if "stuck" in params:
                stuck = params["stuck"]
                if not isinstance(stuck, list):
                    raise ControlError("bad-params", "'stuck' must be a list of relay indexes")
                self.board.stuck.clear()
                for index in stuck:
                    self.board.stick(int(index))
            return self.status()

        async def start(self) -> None:
            self.pty = MegatecPty(self.ups)
            link = self.path("ups.tty")  # a stable name for the config: sim:RUN_DIR/NAME.ups.tty
            with contextlib.suppress(FileNotFoundError):
                os.unlink(link)
            os.symlink(self.pty.port, link)
            self.board_server = BoardServer(self.board, self.path("board.sock"))
            self.watchdog_server = WatchdogServer(self.watchdog, self.path("watchdog.sock"))

        async def stop(self) -> None:
            for part in (self.pty, self.board_server, self.watchdog_server):
                if part is not None:
                    part.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path("ups.tty"))

        def status(self) -> dict[str, Any]:
            return {
                "mains": self.mains.on,
                "ups_port": self.pty.port if self.pty else None,
                "ups_link": self.path("ups.tty"),
                "board_socket": self.path("board.sock"),
                "watchdog_socket": self.path("watchdog.sock"),
                "rail_volts": self.board.ina.bus_volts,
                "relays_energised": [self.board.relay_energised(i)
                                     for i in range(len(self.board.pairs))],
                "off_hook": sorted(self.board.off_hook),
                "watchdog": {"armed": self.watchdog.armed, "fired": self.watchdog.expired()},
                "ups": {"charge": round(self.ups.charge, 1), "reply_mode": self.ups.reply_mode},
            }

    return PowerRig


def main(argv: Sequence[str] | None = None) -> int:
    from hil.sim.process import run_device

    return run_device(_rig_device(), argv)


if __name__ == "__main__":
    raise SystemExit(main())
