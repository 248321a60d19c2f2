"""The control socket: JSON lines over a UNIX stream socket (docs/control-protocol.md).

Request ``{"id": 1, "method": "status", "params": {}}`` gets either
``{"id": 1, "result": {...}}`` or ``{"id": 1, "error": {"code": "...", "message": "..."}}``.
``subscribe`` turns the connection into an event stream as well:
``{"event": "span.alarm", "at": 1767225600.0, "data": {...}}``.
Garbage, oversize lines and handler failures are answered with an error; they
never take the daemon down.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import stat
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from appliance.runtime.events import EventBus, Subscription

log = logging.getLogger("appliance.runtime.control")

MAX_LINE = 1 << 20  # bytes in one request line
MAX_ID = 128  # characters in a string request id
MAX_DIGITS = 20  # digits in a JSON integer (an int64 has 19)
MAX_PATTERNS = 64  # topic patterns in one subscribe
MAX_PATTERN = 128  # characters in one topic pattern


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number this protocol accepts (RFC 8259 §6)")


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise ValueError(f"integer of {len(text)} digits; at most {MAX_DIGITS}")
    return int(text)

Handler = Callable[[dict[str, Any]], Awaitable[Any]]


class ControlError(Exception):
    """An error answered to a client, with a stable code (docs/control-protocol.md)."""

    def __init__(self, code: str, message: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data or {}

    def as_dict(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data:
            error["data"] = self.data
        return error


def _encode(message: dict[str, Any]) -> bytes:
    return (json.dumps(message, separators=(",", ":"), default=str) + "\n").encode()


class ControlServer:
    """Serves registered methods and event subscriptions on a UNIX socket."""

    def __init__(self, path: str, bus: EventBus) -> None:
        self.path = path
        self.bus = bus
        self._methods: dict[str, Handler] = {}
        self._server: asyncio.AbstractServer | None = None
        self._clients: set[asyncio.Task[None]] = set()
        self.register("ping", self._ping)

    def register(self, method: str, handler: Handler) -> None:
        self._methods[method] = handler

    @property
    def methods(self) -> list[str]:
        return sorted([*self._methods, "subscribe", "unsubscribe"])

    async def _ping(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"pong": True}

    async def start(self) -> None:
        directory = os.path.dirname(self.path) or "."
        os.makedirs(directory, exist_ok=True)
        self._remove_stale_socket()
        self._server = await asyncio.start_unix_server(self._serve, path=self.path, limit=MAX_LINE)
        os.chmod(self.path, 0o660)

    def _remove_stale_socket(self) -> None:
        try:
            mode = os.stat(self.path).st_mode
        except FileNotFoundError:
            return
        if not stat.S_ISSOCK(mode):
            raise ControlError(
                "unavailable", f"{self.path} exists and is not a socket; refusing to replace it"
            )
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(self.path)
        except (ConnectionRefusedError, FileNotFoundError):
            os.unlink(self.path)  # left behind by a daemon that died
            log.info("removed stale control socket", extra={"socket": self.path})
            return
        finally:
            probe.close()
        raise ControlError("unavailable", f"{self.path}: another daemon is already listening")

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._clients):
                task.cancel()
            await asyncio.gather(*self._clients, return_exceptions=True)
            await self._server.wait_closed()
            self._server = None
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._clients.add(task)
        write_lock = asyncio.Lock()
        subscription: Subscription | None = None
        pump: asyncio.Task[None] | None = None

        async def send(message: dict[str, Any]) -> None:
            async with write_lock:
                writer.write(_encode(message))
                await writer.drain()

        discarding = False  # inside the tail of an oversize line
        try:
            while True:
                at_end = False
                try:
                    line = await reader.readuntil(b"\n")
                except asyncio.LimitOverrunError as exc:
                    # longer than MAX_LINE: answer once, then drop what was scanned (never
                    # past its newline, so the next request survives) and skip to its end
                    if not discarding:
                        await send(
                            {
                                "id": None,
                                "error": {
                                    "code": "parse-error",
                                    "message": f"request longer than {MAX_LINE} bytes",
                                },
                            }
                        )
                    discarding = True
                    await reader.readexactly(exc.consumed)
                    continue
                except asyncio.IncompleteReadError as exc:  # the peer closed: a last line
                    line, at_end = exc.partial, True
                except ConnectionError:
                    break
                if not line:
                    break
                if discarding:
                    discarding = False
                    continue
                if not line.strip():
                    continue
                request_id, reply = await self._answer(line)
                if isinstance(reply, Subscription):
                    if subscription is not None:
                        self.bus.unsubscribe(subscription)
                        if pump:
                            pump.cancel()
                    subscription = reply
                    await send({"id": request_id, "result": {"subscribed": list(reply.patterns)}})
                    pump = asyncio.create_task(self._pump(subscription, send))
                elif isinstance(reply, str):  # "unsubscribe"
                    if subscription is not None:
                        self.bus.unsubscribe(subscription)
                        subscription = None
                    if pump:
                        pump.cancel()
                        pump = None
                    await send({"id": request_id, "result": {"subscribed": []}})
                else:
                    await send(reply)
                if at_end:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            if subscription is not None:
                self.bus.unsubscribe(subscription)
            if pump:
                pump.cancel()
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            self._clients.discard(task)

    async def _pump(
        self, subscription: Subscription, send: Callable[[dict[str, Any]], Awaitable[None]]
    ) -> None:
        reported = 0
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            while True:
                event = await subscription.queue.get()
                if subscription.missed != reported:
                    await send(
                        {
                            "event": "control.missed",
                            "at": event.at,
                            "data": {"count": subscription.missed - reported},
                        }
                    )
                    reported = subscription.missed
                await send(event.as_message())

    async def _answer(self, line: bytes) -> tuple[Any, dict[str, Any] | Subscription | str]:
        try:
            request = json.loads(line, parse_constant=_no_constant, parse_int=_bounded_int)
        except RecursionError:
            return None, {
                "id": None,
                "error": {"code": "parse-error", "message": "JSON nested too deeply"},
            }
        except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
            return None, {
                "id": None,
                "error": {"code": "parse-error", "message": f"not a JSON line: {exc}"},
            }
        if not isinstance(request, dict):
            return None, {
                "id": None,
                "error": {"code": "bad-request", "message": "a request must be a JSON object"},
            }
        request_id = request.get("id")
        if not (request_id is None or isinstance(request_id, int)
                or (isinstance(request_id, str) and len(request_id) <= MAX_ID)):
            return None, {
                "id": None,
                "error": {"code": "bad-request",
                          "message": f"'id' must be an integer or a string of at most {MAX_ID} "
                                     "characters"},
            }
        method = request.get("method")
        params = request.get("params", {})
        if not isinstance(method, str):
            return request_id, {
                "id": request_id,
                "error": {"code": "bad-request", "message": "'method' must be a string"},
            }
        if not isinstance(params, dict):
            return request_id, {
                "id": request_id,
                "error": {"code": "bad-params", "message": "'params' must be an object"},
            }
        if method == "subscribe":
            topics = params.get("topics", ["*"])
            if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
                return request_id, {
                    "id": request_id,
                    "error": {
                        "code": "bad-params",
                        "message": "'topics' must be a list of strings",
                    },
                }
            if len(topics) > MAX_PATTERNS or any(len(t) > MAX_PATTERN for t in topics):
                return request_id, {
                    "id": request_id,
                    "error": {
                        "code": "bad-params",
                        "message": f"at most {MAX_PATTERNS} topic patterns of at most "
                                   f"{MAX_PATTERN} characters each",
                    },
                }
            return request_id, self.bus.subscribe(topics)
        if method == "unsubscribe":
            return request_id, "unsubscribe"
        handler = self._methods.get(method)
        if handler is None:
            return request_id, {
                "id": request_id,
                "error": {
                    "code": "unknown-method",
                    "message": f"unknown method {method!r}; known: {', '.join(self.methods)}",
                },
            }
        try:
            result = await handler(params)
        except ControlError as exc:
            return request_id, {"id": request_id, "error": exc.as_dict()}
        except Exception as exc:
            log.exception("control method failed", extra={"method": method})
            return request_id, {
                "id": request_id,
                "error": {"code": "internal", "message": f"{method} failed: {exc}"},
            }
        return request_id, {"id": request_id, "result": result}


class ControlClient:
    """A client for one daemon's control socket (used by appliancectl, the console, tests)."""

    def __init__(self, path: str, timeout: float = 5.0) -> None:
        self.path = path
        self.timeout = timeout
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._next_id = 0
        self._events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def connect(self) -> ControlClient:
        try:
            self._reader, self._writer = await asyncio.wait_for(
                asyncio.open_unix_connection(self.path, limit=MAX_LINE), self.timeout
            )
        except FileNotFoundError as exc:
            raise ControlError(
                "unavailable", f"{self.path}: no such socket (is the daemon running?)"
            ) from exc
        except ConnectionRefusedError as exc:
            raise ControlError(
                "unavailable", f"{self.path}: connection refused (daemon not running?)"
            ) from exc
        except PermissionError as exc:
            raise ControlError("unavailable", f"{self.path}: permission denied") from exc
        except TimeoutError as exc:
            raise ControlError(
                "timeout", f"{self.path}: no answer within {self.timeout:g} s"
            ) from exc
        return self

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(Exception):
                await self._writer.wait_closed()
            self._writer = None

    async def __aenter__(self) -> ControlClient:
        return await self.connect()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _read_message(self) -> dict[str, Any]:
        assert self._reader is not None
        line = await asyncio.wait_for(self._reader.readline(), self.timeout)
        if not line:
            raise ControlError("unavailable", f"{self.path}: daemon closed the connection")
        message: dict[str, Any] = json.loads(line)
        return message

    async def call(self, method: str, /, **params: Any) -> Any:
        if self._writer is None:
            await self.connect()
        assert self._writer is not None
        self._next_id += 1
        request_id = self._next_id
        self._writer.write(_encode({"id": request_id, "method": method, "params": params}))
        try:
            await self._writer.drain()
            while True:
                message = await self._read_message()
                if "event" in message:
                    self._events.put_nowait(message)
                    continue
                if message.get("id") == request_id:
                    break
        except TimeoutError as exc:
            raise ControlError("timeout", f"{method}: no answer within {self.timeout:g} s") from exc
        except ConnectionError as exc:
            raise ControlError("unavailable", f"{self.path}: {exc}") from exc
        if "error" in message:
            error = message["error"]
            raise ControlError(str(error.get("code")), str(error.get("message")), error.get("data"))
        return message.get("result")

    async def events(self, *topics: str) -> AsyncIterator[dict[str, Any]]:
        """Subscribe and yield events as they arrive (forever, until the connection closes)."""
        await self.call("subscribe", topics=list(topics) or ["*"])
        while not self._events.empty():
            yield self._events.get_nowait()
        assert self._reader is not None
        while True:
            line = await self._reader.readline()
            if not line:
                return
            message = json.loads(line)
            if "event" in message:
                yield message


async def call_once(socket_path: str, method: str, /, timeout: float = 5.0, **params: Any) -> Any:
    """Connect, make one call, close."""
    async with ControlClient(socket_path, timeout) as client:
        return await client.call(method, **params)
