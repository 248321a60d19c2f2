"""NUT client: reads a UPS from upsd over its network protocol.

Address: ``nut://UPSNAME@HOST:PORT?user=U&password=P&timeout=2``. The port
defaults to 3493 (IANA "nut").

Protocol (NUT developer guide, "Network protocol information"): one
request per line, one reply per line, in ASCII. Used here:
``VER``; ``USERNAME u`` / ``PASSWORD p`` / ``LOGIN ups`` -> ``OK``;
``GET VAR ups name`` -> ``VAR ups name "value"``;
``LIST VAR ups`` -> ``BEGIN LIST VAR ups`` ... ``VAR ups name "value"`` ... ``END LIST VAR ups``;
``INSTCMD ups cmd`` -> ``OK``; ``LOGOUT`` -> ``OK Goodbye``.
Errors are ``ERR <CODE>``: DATA-STALE and DRIVER-NOT-CONNECTED mean upsd is up
but has no current data (the reading is flagged stale, the connection kept);
anything else fails the poll. Values are double-quoted with ``\\"`` and
``\\\\`` escapes.
"""

from __future__ import annotations

import contextlib
import shlex
import socket
import time
from collections.abc import Callable
from typing import Any

from drivers.registry import DeviceAddress
from drivers.ups.base import Ups, UpsReading
from drivers.ups.errors import UpsInitError, UpsOperationError, UpsProtocolError, UpsTimeoutError

STALE_ERRORS = frozenset({"DATA-STALE", "DRIVER-NOT-CONNECTED"})


def split_line(line: str) -> list[str]:
    """Words of a protocol line, with quoted values unescaped (NUT network protocol §quoting)."""
    try:
        return shlex.split(line, posix=True)
    except ValueError as exc:
        raise UpsProtocolError(f"upsd line {line[:80]!r} is malformed: {exc}") from exc


def quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def reading_from_vars(variables: dict[str, str]) -> UpsReading:
    status = frozenset(variables.get("ups.status", "").split())
    # WAIT (upsd has no data from the driver yet), OFF, or nothing: the line state is unknown
    known = bool(status & {"OL", "OB"})
    return UpsReading(
        status=status,
        charge=_number(variables.get("battery.charge")),
        runtime=_number(variables.get("battery.runtime")),
        input_voltage=_number(variables.get("input.voltage")),
        battery_voltage=_number(variables.get("battery.voltage")),
        load=_number(variables.get("ups.load")),
        stale=not known,
        error="" if known else f"ups.status {' '.join(sorted(status)) or '-'}: line state unknown",
        extra={k: v for k, v in variables.items() if k.startswith(("ups.", "device."))},
    )


class NutUps(Ups):
    """A UPS served by upsd."""

    def __init__(
        self,
        host: str,
        ups_name: str,
        port: int = 3493,
        *,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 2.0,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(f"{ups_name}@{host}:{port}", now=now)
        self.host = host
        self.port = port
        self.ups_name = ups_name
        self.username = username
        self.password = password
        self.timeout = timeout
        self.server_version = ""
        self._sock: socket.socket | None = None
        self._buffer = b""

    @classmethod
    def from_address(cls, address: DeviceAddress, **kwargs: Any) -> NutUps:
        target = address.target.removeprefix("//")
        name, at, hostport = target.rpartition("@")
        if not at or not name:
            raise UpsInitError(f"UPS address {address.text!r}: expected nut://UPSNAME@HOST[:PORT]")
        host, _, port_text = hostport.partition(":")
        try:
            port = int(port_text) if port_text else 3493
            timeout = float(address.option("timeout", "2.0") or 2.0)
        except ValueError as exc:
            raise UpsInitError(f"UPS address {address.text!r}: {exc}") from exc
        opts: dict[str, Any] = {
            "username": address.option("user"),
            "password": address.option("password"),
            "timeout": timeout,
        }
        opts.update(kwargs)
        return cls(host or "127.0.0.1", name, port, **opts)

    # ---- line I/O ------------------------------------------------------------------------
    def _send_line(self, line: str) -> None:
        if self._sock is None:
            raise UpsOperationError(f"upsd {self.host}:{self.port}: not connected")
        try:
            self._sock.sendall(line.encode("utf-8") + b"\n")
        except TimeoutError as exc:
            raise UpsTimeoutError(f"upsd {self.host}:{self.port}: send timed out") from exc
        except OSError as exc:
            raise UpsOperationError(
                f"upsd {self.host}:{self.port}: connection lost: {exc}"
            ) from exc

    def _recv_line(self) -> str:
        if self._sock is None:
            raise UpsOperationError(f"upsd {self.host}:{self.port}: not connected")
        while b"\n" not in self._buffer:
            try:
                chunk = self._sock.recv(4096)
            except TimeoutError as exc:
                raise UpsTimeoutError(
                    f"upsd {self.host}:{self.port} did not answer within {self.timeout} s"
                ) from exc
            except OSError as exc:
                raise UpsOperationError(
                    f"upsd {self.host}:{self.port}: connection lost: {exc}"
                ) from exc
            if not chunk:
                raise UpsOperationError(f"upsd {self.host}:{self.port} closed the connection")
            self._buffer += chunk
            if len(self._buffer) > 1 << 20:
                raise UpsProtocolError(f"upsd {self.host}:{self.port}: line over 1 MiB")
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode("utf-8", "replace").rstrip("\r")

    def _request(self, line: str) -> str:
        self._send_line(line)
        reply = self._recv_line()
        if reply.startswith("ERR"):
            raise NutError(reply[3:].strip() or "UNKNOWN", line)
        return reply

    # ---- backend hooks -------------------------------------------------------------------
    def _connect(self) -> None:
        self._buffer = b""
        try:
            self._sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as exc:
            raise UpsInitError(f"upsd {self.host}:{self.port}: cannot connect: {exc}") from exc
        try:
            self.server_version = self._request("VER")
            if self.username:
                self._request(f"USERNAME {self.username}")
                self._request(f"PASSWORD {self.password or ''}")
                self._request(f"LOGIN {self.ups_name}")
        except NutError as exc:
            self._close_socket()
            raise UpsInitError(f"upsd {self.host}:{self.port}: {exc}") from exc
        except (UpsOperationError, UpsTimeoutError):
            self._close_socket()
            raise

    def _poll(self) -> UpsReading:
        try:
            variables = self.list_vars()
        except NutError as exc:
            if exc.code in STALE_ERRORS:
                return UpsReading(stale=True, error=f"upsd: {exc.code}")
            raise
        return reading_from_vars(variables)

    def list_vars(self) -> dict[str, str]:
        """Every variable of the UPS (``LIST VAR``)."""
        first = self._request(f"LIST VAR {self.ups_name}")
        if split_line(first) != ["BEGIN", "LIST", "VAR", self.ups_name]:
            raise UpsProtocolError(f"upsd: LIST VAR began with {first[:80]!r}")
        variables: dict[str, str] = {}
        while True:
            line = self._recv_line()
            words = split_line(line)
            if words == ["END", "LIST", "VAR", self.ups_name]:
                return variables
            if len(words) != 4 or words[0] != "VAR" or words[1] != self.ups_name:
                raise UpsProtocolError(f"upsd: unexpected line in LIST VAR: {line[:80]!r}")
            variables[words[2]] = words[3]

    def get_var(self, name: str) -> str:
        """One variable (``GET VAR``)."""
        if not self._connected:
            self._connect()
            self._connected = True
        reply = self._request(f"GET VAR {self.ups_name} {name}")
        words = split_line(reply)
        if len(words) != 4 or words[:3] != ["VAR", self.ups_name, name]:
            raise UpsProtocolError(f"upsd: GET VAR {name} answered {reply[:80]!r}")
        return words[3]

    def _command(self, name: str) -> None:
        try:
            self._request(f"INSTCMD {self.ups_name} {name}")
        except NutError as exc:
            raise UpsOperationError(f"upsd refused {name!r} for {self.ups_name}: {exc}") from exc

    def _disconnect(self) -> None:
        if self._sock is not None:
            # the server may already be gone: then closing is all that is left
            with contextlib.suppress(UpsOperationError, UpsTimeoutError):
                self._send_line("LOGOUT")
            self._close_socket()

    def _close_socket(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


class NutError(UpsOperationError):
    """``ERR <code>`` from upsd (NUT network protocol, "Error responses")."""

    def __init__(self, code: str, request: str) -> None:
        self.code = code.split()[0] if code else "UNKNOWN"
        super().__init__(f"upsd answered ERR {code} to {request.split(' ')[0]!r}")
