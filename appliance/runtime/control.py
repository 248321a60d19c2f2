"""The control socket: JSON lines over a UNIX stream socket (docs/control-protocol.md).

Request ``{"id": 1, "method": "status", "params": {}}`` gets either
``{"id": 1, "result": {...}}`` or ``{"id": 1, "error": {"code": "...", "message": "..."}}``.
``subscribe`` turns the connection into an event stream as well:
``{"event": "span.alarm", "at": 1767225600.0, "data": {...}}``.
Garbage, oversize lines and handler failures are answered with an error; they
never take the daemon down.

Every method is registered with the permission it needs; the server maps each
connection's peer (SO_PEERCRED) to a principal through its guard
(appliance/auth/guard.py) and answers ``forbidden`` to a request the principal
may not make. Requests that change state, and every forbidden request, go to
the server's auditor with the principal, whatever the outcome (ADM-2).

Bounds (issue 13): a line, a JSON integer, an id and a subscription are
limited; a connection runs one request at a time and yields to the others
after each, and ordinary users' requests share at most :data:`CONTROL_SHARE` of the
loop's time (:meth:`ControlServer._take_turn`); at most :data:`MAX_CONNECTIONS` clients (plus
:data:`RESERVED_CONNECTIONS` for root and the daemons' own user, so powerd's
health probe always gets in); a client that does not read its answers within
:data:`SEND_TIMEOUT` seconds is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import grp
import json
import logging
import os
import socket
import stat
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

from appliance.auth.guard import (
    CUSTOMER_READ,
    PUBLIC,
    Guard,
    Principal,
    mask_customer_data,
    owner_guard,
)
from appliance.runtime.events import EventBus, Subscription
from appliance.runtime.peer import Peer, peer_of

log = logging.getLogger("appliance.runtime.control")

MAX_LINE = 1 << 20  # bytes in one request line
MAX_ID = 128  # characters in a string request id
MAX_DIGITS = 20  # digits in a JSON integer (an int64 has 19)
MAX_PATTERNS = 64  # topic patterns in one subscribe
MAX_PATTERN = 128  # characters in one topic pattern
MAX_CONNECTIONS = 64  # clients at once; more are answered "busy" and closed
RESERVED_CONNECTIONS = 8  # on top, for root and the daemons' own user (powerd's probe)
SEND_TIMEOUT = 5.0  # seconds a client may leave its answers unread before it is dropped
PRINCIPAL_TTL = 10.0  # seconds a uid's principal is trusted before it is looked up again
SUBSCRIBE_NEEDS = "status.read"
SLICE_S = 0.01  # the loop's time is shared out in slices of this length
CONTROL_SHARE = 0.25  # of each slice, at most this much for requests of ordinary users


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number this protocol accepts (RFC 8259 §6)")


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise ValueError(f"integer of {len(text)} digits; at most {MAX_DIGITS}")
    return int(text)

Handler = Callable[[dict[str, Any]], Awaitable[Any]]
# (principal, method, params, outcome) for every state change and every forbidden request
Auditor = Callable[[Principal, str, dict[str, Any], str], None]
AccountLookup = Callable[[str, Peer], Principal]  # account name, peer -> its principal


def is_read(needs: str) -> bool:
    """A method that only reads: public, or needing a ``*.read`` permission."""
    return needs == PUBLIC or needs.endswith(".read")


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

    def __init__(self, path: str, bus: EventBus, *, guard: Guard = owner_guard,
                 auditor: Auditor | None = None, socket_group: str = "",
                 accounts: AccountLookup | None = None) -> None:
        self.path = path
        self.bus = bus
        self.guard = guard
        # an appliance account by name, for a request that acts as it ("as"): the console
        self.accounts = accounts
        self.auditor = auditor
        self.socket_group = socket_group
        self._methods: dict[str, tuple[Handler, str]] = {}
        self._server: asyncio.AbstractServer | None = None
        self._clients: set[asyncio.Task[None]] = set()
        self.refused_connections = 0
        self._principals: dict[int, tuple[float, Principal]] = {}  # uid -> (looked up, who)
        self.paced_requests = 0  # times a request waited for a slice with budget left
        self._slice_end = 0.0
        self._slice_used = 0.0
        self.dropped_slow_readers = 0
        self.register("ping", self._ping, needs=PUBLIC)

    def register(self, method: str, handler: Handler, *, needs: str) -> None:
        """Serve ``method``; only a principal holding permission ``needs`` may call it."""
        self._methods[method] = (handler, needs)

    @property
    def methods(self) -> list[str]:
        return sorted([*self._methods, "subscribe", "unsubscribe"])

    @property
    def clients(self) -> int:
        return len(self._clients)

    def needs(self, method: str) -> str:
        """The permission ``method`` needs (``subscribe`` needs :data:`SUBSCRIBE_NEEDS`)."""
        if method in ("subscribe", "unsubscribe"):
            return SUBSCRIBE_NEEDS
        return self._methods[method][1]

    async def _ping(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"pong": True}

    async def start(self) -> None:
        directory = os.path.dirname(self.path) or "."
        os.makedirs(directory, exist_ok=True)
        self._remove_stale_socket()
        self._server = await asyncio.start_unix_server(self._serve, path=self.path, limit=MAX_LINE)
        os.chmod(self.path, 0o660)  # the owner and the socket's group may connect (guard decides)
        if self.socket_group:
            try:
                gid = grp.getgrnam(self.socket_group).gr_gid
            except KeyError:
                raise ControlError("unavailable", f"paths.socket_group {self.socket_group!r}: "
                                                  "no such group on this system") from None
            os.chown(self.path, -1, gid)

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

    async def _take_turn(self) -> None:
        """Wait until this slice of the loop's time has control budget left.

        Requests from other users may take at most :data:`CONTROL_SHARE` of each
        :data:`SLICE_S`; beyond it they wait for the next slice, so a flood of cheap
        requests from many connections cannot delay the media tick's timer by more than
        a request or so. Root and the daemons' own user (powerd's health probe) never wait.
        """
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            if now >= self._slice_end:
                self._slice_end, self._slice_used = now + SLICE_S, 0.0
            if self._slice_used < SLICE_S * CONTROL_SHARE:
                return
            self.paced_requests += 1
            await asyncio.sleep(self._slice_end - now)

    async def _principal(self, peer: Peer) -> Principal:
        """The guard's answer for this peer's uid, looked up (in a worker: it reads the
        database) at most once per :data:`PRINCIPAL_TTL` per uid, however many connections."""
        now = time.monotonic()
        cached = self._principals.get(peer.uid)
        if cached is None or now - cached[0] > PRINCIPAL_TTL:
            found = await asyncio.to_thread(self.guard, peer)
            cached = (now, found)
            self._principals[peer.uid] = cached
        known = cached[1]
        return known if known.peer == peer else replace(known, peer=peer)

    def _admit(self, peer: Peer) -> bool:
        """Room for one more client: the cap, plus a reserve for root and our own user."""
        limit = MAX_CONNECTIONS + (RESERVED_CONNECTIONS if peer.is_owner else 0)
        return len(self._clients) < limit

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        peer = peer_of(writer.get_extra_info("socket"))
        if not self._admit(peer):
            self.refused_connections += 1
            if self.refused_connections & (self.refused_connections - 1) == 0:  # 1, 2, 4, 8 ...
                log.warning("control socket full: refused a client (%d refused so far)",
                            self.refused_connections,
                            extra={"socket": self.path, "uid": peer.uid, "pid": peer.pid})
            with contextlib.suppress(Exception):  # answer the first request, then close
                await asyncio.wait_for(reader.readline(), 1.0)
                writer.write(_encode({"id": None, "error": {
                    "code": "busy", "message": f"{MAX_CONNECTIONS} clients already connected"}}))
                await asyncio.wait_for(writer.drain(), 1.0)
            writer.close()
            return
        self._clients.add(task)
        write_lock = asyncio.Lock()
        subscription: Subscription | None = None
        pump: asyncio.Task[None] | None = None
        async def send(message: dict[str, Any]) -> None:
            async with write_lock:
                writer.write(_encode(message))
                try:  # a client that leaves its answers unread is dropped, never waited for
                    await asyncio.wait_for(writer.drain(), SEND_TIMEOUT)
                except TimeoutError:
                    self.dropped_slow_readers += 1
                    log.warning("dropped a client that did not read its answers",
                                extra={"socket": self.path, "uid": peer.uid, "pid": peer.pid})
                    writer.transport.abort()
                    raise ConnectionResetError("slow reader dropped") from None

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
                if not peer.is_owner:
                    await self._take_turn()
                started = asyncio.get_running_loop().time()
                principal = await self._principal(peer)
                request_id, reply = await self._answer(line, principal)
                self._slice_used += asyncio.get_running_loop().time() - started
                if isinstance(reply, Subscription):
                    if subscription is not None:
                        self.bus.unsubscribe(subscription)
                        if pump:
                            pump.cancel()
                    subscription = reply
                    await send({"id": request_id, "result": {"subscribed": list(reply.patterns)}})
                    pump = asyncio.create_task(
                        self._pump(subscription, send, masked=not principal.can(CUSTOMER_READ)))
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
                await asyncio.sleep(0)  # pipelined requests take turns with other clients
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
        self, subscription: Subscription, send: Callable[[dict[str, Any]], Awaitable[None]],
        *, masked: bool,
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
                message = event.as_message()
                await send(mask_customer_data(message) if masked else message)

    async def _answer(self, line: bytes, principal: Principal
                      ) -> tuple[Any, dict[str, Any] | Subscription | str]:
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
        if "as" in request:
            principal, refusal = await self._acting_as(request["as"], principal)
            if refusal:
                return request_id, {"id": request_id,
                                    "error": {"code": "forbidden", "message": refusal}}
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
        known = method in ("subscribe", "unsubscribe") or method in self._methods
        if known and not principal.can(self.needs(method)):
            return request_id, self._forbidden(request_id, principal, method, params)
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
        if not known:
            return request_id, {
                "id": request_id,
                "error": {
                    "code": "unknown-method",
                    "message": f"unknown method {method!r}; known: {', '.join(self.methods)}",
                },
            }
        handler, _ = self._methods[method]
        try:
            result = await handler(params)
        except ControlError as exc:
            self._audit(principal, method, params, f"refused: {exc.message}")
            return request_id, {"id": request_id, "error": exc.as_dict()}
        except Exception as exc:
            log.exception("control method failed", extra={"method": method})
            self._audit(principal, method, params, f"failed: {exc}")
            return request_id, {
                "id": request_id,
                "error": {"code": "internal", "message": f"{method} failed: {exc}"},
            }
        self._audit(principal, method, params, "ok")
        if not principal.can(CUSTOMER_READ):
            result = mask_customer_data(result)
        return request_id, {"id": request_id, "result": result}

    async def _acting_as(self, name: Any, principal: Principal) -> tuple[Principal, str]:
        """A request's ``as``: the appliance's own processes (root, the daemons' user) may
        act as an account, with that account's permissions only, never more; the field
        engineer's console does, so that the daemon itself enforces and audits the role
        of whoever logged in there (SEC-2). Anyone else asking is refused."""
        if not isinstance(name, str) or not 0 < len(name) <= MAX_ID:
            return principal, "'as' must be an account name"
        if not principal.peer.is_owner or self.accounts is None:
            return principal, (f"Unix user {principal.name!r} may not act as another account; "
                               "only the appliance's own processes (the console) may")
        account = await asyncio.to_thread(self.accounts, name, principal.peer)
        if not account.role:
            return principal, f"no active appliance account {name!r} to act as"
        return account, ""

    def _forbidden(self, request_id: Any, principal: Principal, method: str,
                   params: dict[str, Any]) -> dict[str, Any]:
        needs = self.needs(method)
        who = f"{principal.name} ({principal.role})" if principal.role else principal.name
        message = (f"{method} needs permission {needs!r}; {who} does not have it"
                   if principal.role else
                   f"{method} refused: Unix user {principal.name!r} has no appliance account "
                   "(appliancectl users add)")
        log.warning("forbidden request", extra={"method": method, "user": principal.name,
                                                "uid": principal.peer.uid})
        self._audit(principal, method, params, f"forbidden: needs {needs}", always=True)
        return {"id": request_id, "error": {"code": "forbidden", "message": message,
                                            "data": {"needs": needs}}}

    def _audit(self, principal: Principal, method: str, params: dict[str, Any], outcome: str,
               *, always: bool = False) -> None:
        """A request to the auditor if it changes state (or ``always``: a forbidden one)."""
        if self.auditor is None or (not always and is_read(self.needs(method))):
            return
        try:
            self.auditor(principal, method, params, outcome)
        except Exception:
            log.exception("audit of a control request failed", extra={"method": method})


class ControlClient:
    """A client for one daemon's control socket (used by appliancectl, the console, tests)."""

    def __init__(self, path: str, timeout: float = 5.0, act_as: str = "") -> None:
        self.path = path
        self.timeout = timeout
        self.act_as = act_as  # every request acts as this account (ControlServer._acting_as)
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
        request: dict[str, Any] = {"id": request_id, "method": method, "params": params}
        if self.act_as:
            request["as"] = self.act_as
        try:
            self._writer.write(_encode(request))
            await self._writer.drain()
        except ConnectionError:
            pass  # the server closed on us; it may have said why ("busy"): read that below
        try:
            while True:
                message = await self._read_message()
                if "event" in message:
                    self._events.put_nowait(message)
                    continue
                if message.get("id") in (request_id, None):  # None: the server could not
                    break  # read our request, or is full ("busy")
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
