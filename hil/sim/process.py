"""Running one simulated device as a process with its own control socket.

Every simulator process is started as
``python -m hil.sim.<device> --name NAME --run-dir DIR [--options JSON]``.
It listens on ``DIR/NAME.ctl`` (JSON lines, the same protocol as the
daemons' control sockets: docs/control-protocol.md) with at least ``ping``
and ``status``, plus whatever its device offers (fault injection, scripted
callers, mains on/off ...), and stops cleanly on SIGTERM or SIGINT, removing
its sockets.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from appliance.runtime.control import ControlServer
from appliance.runtime.events import EventBus
from appliance.runtime.logs import setup_logging
from hil.sim.guard import RIG_CONTROL, rig_guard


class SimulatedDevice:
    """Base of a simulated device hosted by :func:`run_device`."""

    device = "device"

    def __init__(self, name: str, run_dir: str, options: dict[str, Any]) -> None:
        self.name = name
        self.run_dir = run_dir
        self.options = options
        self.bus: EventBus | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._listeners: dict[str, socket.socket] = {}

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run ``coro`` as one of the device's tasks (cancelled by :meth:`stop`)."""
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def listen(
        self,
        suffix: str,
        on_connection: Callable[[socket.socket], Coroutine[Any, Any, None]],
        backlog: int = 1,
    ) -> str:
        """Accept SOCK_SEQPACKET connections on ``RUN_DIR/NAME.SUFFIX`` (message boundaries
        kept, as a driver's frames need); each connection is served by ``on_connection``."""
        path = self.path(suffix)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        listener.bind(path)
        listener.listen(backlog)
        listener.setblocking(False)
        self._listeners[path] = listener
        self.spawn(self._accept(listener, on_connection))
        return path

    async def _accept(
        self,
        listener: socket.socket,
        on_connection: Callable[[socket.socket], Coroutine[Any, Any, None]],
    ) -> None:
        loop = asyncio.get_running_loop()
        while True:
            peer, _ = await loop.sock_accept(listener)
            peer.setblocking(False)
            self.spawn(on_connection(peer))

    def path(self, suffix: str) -> str:
        """A socket or file path for this device inside the run directory."""
        return os.path.join(self.run_dir, f"{self.name}.{suffix}")

    def register(self, control: ControlServer) -> None:
        """Add the device's own control methods."""

    async def start(self) -> None:
        """Open the device's sockets and start its activity."""

    async def stop(self) -> None:
        """Cancel the device's tasks, close its sockets and remove them; safe twice.
        Devices that hold more call this from their own ``stop``."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for path, listener in list(self._listeners.items()):
            listener.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        self._listeners.clear()

    def status(self) -> dict[str, Any]:
        return {}


def control_path(run_dir: str, name: str) -> str:
    return os.path.join(run_dir, f"{name}.ctl")


async def serve_device(device: SimulatedDevice, stop: asyncio.Event) -> None:
    bus = EventBus(time.time)
    device.bus = bus
    control = ControlServer(control_path(device.run_dir, device.name), bus, guard=rig_guard)
    started = time.monotonic()

    async def status(params: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": device.name,
            "device": device.device,
            "pid": os.getpid(),
            "uptime": round(time.monotonic() - started, 3),
            **device.status(),
        }

    control.register("status", status, needs=RIG_CONTROL)
    device.register(control)
    await device.start()
    try:
        await control.start()
        await stop.wait()
    finally:
        await control.stop()
        await device.stop()


def run_device(
    factory: Callable[[str, str, dict[str, Any]], SimulatedDevice],
    argv: Sequence[str] | None = None,
) -> int:
    """The ``main`` of a simulator module."""
    parser = argparse.ArgumentParser(description="hil simulated device")
    parser.add_argument("--name", required=True)
    parser.add_argument("--run-dir", required=True)
    parser.add_argument("--options", default="{}", help="device options as a JSON object")
    args = parser.parse_args(argv)
    setup_logging(f"hil-{args.name}")
    try:
        options = json.loads(args.options)
        if not isinstance(options, dict):
            raise ValueError("not an object")
    except ValueError as exc:
        parser.error(f"--options: not a JSON object: {exc}")
    os.makedirs(args.run_dir, exist_ok=True)
    device = factory(args.name, args.run_dir, options)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await serve_device(device, stop)

    asyncio.run(main())
    logging.getLogger("hil.sim").info("stopped", extra={"device": args.name})
    return 0
