"""A loop plug: the simplest test instrument, sending back whatever it receives.

On a telephony bench a loop plug closes a line on itself so a technician can
prove a path end to end. This one listens on a SOCK_SEQPACKET socket
(``RUN_DIR/NAME.sock``) and returns every message unchanged, optionally after
a delay; fault injection drops every Nth message. It proves the hil process
plumbing (start, control socket, fault injection, clean stop) and serves as a
loopback for driver tests.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Sequence
from typing import Any

from appliance.runtime.control import ControlError, ControlServer
from hil.sim.guard import RIG_CONTROL
from hil.sim.process import SimulatedDevice, run_device

MAX_MESSAGE = 65536


class LoopPlug(SimulatedDevice):
    device = "loopplug"

    def __init__(self, name: str, run_dir: str, options: dict[str, Any]) -> None:
        super().__init__(name, run_dir, options)
        self.delay = float(options.get("delay", 0.0))
        self.drop_every = int(options.get("drop_every", 0))
        self.received = 0
        self.echoed = 0
        self.dropped = 0

    def register(self, control: ControlServer) -> None:
        control.register("fault", self._fault, needs=RIG_CONTROL)

    async def _fault(self, params: dict[str, Any]) -> dict[str, Any]:
        drop_every = params.get("drop_every", self.drop_every)
        delay = params.get("delay", self.delay)
        if not isinstance(drop_every, int) or drop_every < 0:
            raise ControlError(
                "bad-params", "'drop_every' must be an integer >= 0 (0 = never drop)"
            )
        if not isinstance(delay, int | float) or not 0 <= delay <= 10:
            raise ControlError("bad-params", "'delay' must be a number of seconds from 0 to 10")
        self.drop_every, self.delay = drop_every, float(delay)
        return {"drop_every": self.drop_every, "delay": self.delay}

    async def start(self) -> None:
        self.listen("sock", self._echo, backlog=8)

    async def _echo(self, peer: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        with peer:
            while True:
                try:
                    message = await loop.sock_recv(peer, MAX_MESSAGE)
                except ConnectionError:
                    return
                if not message:
                    return
                self.received += 1
                if self.drop_every and self.received % self.drop_every == 0:
                    self.dropped += 1
                    continue
                if self.delay:
                    await asyncio.sleep(self.delay)
                await loop.sock_sendall(peer, message)
                self.echoed += 1

    def status(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "echoed": self.echoed,
            "dropped": self.dropped,
            "drop_every": self.drop_every,
            "delay": self.delay,
        }


def main(argv: Sequence[str] | None = None) -> int:
    return run_device(LoopPlug, argv)


if __name__ == "__main__":
    raise SystemExit(main())
