"""The board behind the simulator (hil/sim/board.py): ``sim:/path/board.sock``.

The simulator serves its bus on a UNIX socket, one JSON object per line:
``{"op": "read_word_data", "args": [64, 2]}`` answered by ``{"ok": 4098}`` or
``{"errno": 121, "error": "no acknowledge from 0x40"}``; an error is raised
here as the same ``OSError`` the Linux i2c-dev layer would raise, so
:class:`~drivers.board.base.LifelineBoard` runs unchanged on either.
A ``bus=`` keyword (any smbus2-like object) skips the socket, for in-process rigs.
"""

from __future__ import annotations

import errno
import json
import socket
import threading
from collections.abc import Sequence
from typing import Any

from drivers.board.base import LifelineBoard
from drivers.board.errors import BoardInitError
from drivers.registry import DeviceAddress


class SimBusClient:
    """smbus2-like bus whose transfers go to the simulator process."""

    def __init__(self, path: str, timeout: float = 1.0) -> None:
        self.path = path
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(timeout)
        try:
            self._sock.connect(path)
        except OSError as exc:
            self._sock.close()
            raise BoardInitError(f"board simulator at {path}: cannot connect: {exc}") from exc
        self._file = self._sock.makefile("rwb")
        self._lock = threading.Lock()  # one transfer at a time, as on the wire

    def _call(self, op: str, *args: Any) -> Any:
        with self._lock:
            return self._transfer(op, *args)

    def _transfer(self, op: str, *args: Any) -> Any:
        try:
            self._file.write(json.dumps({"op": op, "args": list(args)}).encode() + b"\n")
            self._file.flush()
            line = self._file.readline()
        except (OSError, ValueError) as exc:
            raise OSError(errno.EIO, f"board simulator link: {exc}") from exc
        if not line:
            raise OSError(errno.EIO, "board simulator closed the link")
        reply = json.loads(line)
        if "errno" in reply:
            raise OSError(int(reply["errno"]), str(reply.get("error", "")))
        return reply["ok"]

    def read_byte_data(self, i2c_addr: int, register: int, force: bool | None = None) -> int:
        return int(self._call("read_byte_data", i2c_addr, register))

    def write_byte_data(
        self, i2c_addr: int, register: int, value: int, force: bool | None = None
    ) -> None:
        self._call("write_byte_data", i2c_addr, register, value)

    def read_word_data(self, i2c_addr: int, register: int, force: bool | None = None) -> int:
        return int(self._call("read_word_data", i2c_addr, register))

    def write_word_data(
        self, i2c_addr: int, register: int, value: int, force: bool | None = None
    ) -> None:
        self._call("write_word_data", i2c_addr, register, value)

    def read_i2c_block_data(
        self, i2c_addr: int, register: int, length: int, force: bool | None = None
    ) -> list[int]:
        return [int(v) for v in self._call("read_i2c_block_data", i2c_addr, register, length)]

    def write_i2c_block_data(
        self, i2c_addr: int, register: int, data: Sequence[int], force: bool | None = None
    ) -> None:
        self._call("write_i2c_block_data", i2c_addr, register, list(data))

    def close(self) -> None:
        try:
            self._file.close()  # flushes what a failed transfer left buffered
        except OSError:
            pass  # the simulator is gone (stopped with the rig): nothing left to tell it
        finally:
            self._sock.close()


class SimBoard(LifelineBoard):
    @classmethod
    def from_address(cls, address: DeviceAddress, bus: Any = None, **kwargs: Any) -> SimBoard:
        if bus is None:
            if not address.target:
                raise BoardInitError(
                    f"board address {address.text!r}: 'sim:' needs the simulator socket path"
                )
            bus = SimBusClient(address.target)
        return cls(bus, **kwargs)
