"""The pjsua2 endpoint, owned by one dedicated thread (issue 16, deliverable 2).

pjsua2 is headless here: ``threadCnt = 0`` so pjsua starts no worker of its
own, the owner thread polls ``libHandleEvents()``, the sound device is the null
device (media meets the 20 ms engine through ``AudioMediaPort``, not a sound
card) and ``maxCalls`` comes from the configuration (pjsua's default is 4).

Every pjsua2 call runs on the owner thread: other threads (the asyncio loop's
workers) hand it work with :meth:`SipEndpoint.submit` and get a
:class:`concurrent.futures.Future`, so no pjsua2 call ever runs on the event
loop and no other thread has to be registered with pjlib
(``libRegisterThread``). The Python wrappers of accounts and calls stay
referenced in :attr:`SipEndpoint.owned` until pjsua2 reports them gone, and the
owner thread drops them all before ``libDestroy`` so no wrapper's destructor
can run after the library is gone (the pjsua2 garbage-collection pitfalls).
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

from appliance.signalling.sip.frames import check_vector_layout

log = logging.getLogger("appliance.sip")

T = TypeVar("T")

#: How long one ``libHandleEvents`` poll may wait for SIP or timer events, in ms.
POLL_MS = 10

#: How long a finished call's ``Call`` wrapper is kept before it is destroyed, in s; and it
#: is destroyed only while no call holds its call id: pjsua gives a freed id to the next
#: call, and ``Call::~Call`` unbinds and hangs up whatever call holds its id (seen: at 20
#: set-ups a second, calls whose events never came). Media ports are never destroyed at
#: all while pjsua runs (pjcall.PortPool).
RETIRE_S = 1.0

#: At stop with calls up (or just ended), how long the BYEs just sent get their answers
#: and the bridge its removals before the library goes, in s.
LINGER_S = 0.2

#: The codecs offered and accepted (pjsua2 priority, 0 disables): G.711 only.
CODEC_PRIORITY = {"PCMA": 200, "PCMU": 190}


class SipEndpointError(Exception):
    """The pjsua2 endpoint could not start, or is not running."""


def load_pjsua2() -> Any:
    try:
        import pjsua2
    except ImportError as exc:  # pragma: no cover - exercised only on a broken install
        raise SipEndpointError(
            "SIP needs the pjsua2-python wheel (Linux x86-64); run `make setup`") from exc
    return pjsua2


#: pjlib log levels (1 error, 2 warning, 3 info, 4+ debug) as logging's
_LEVELS = {1: logging.ERROR, 2: logging.WARNING, 3: logging.INFO}


def _log_writer(pj: Any) -> Any:
    """A pjsua2 ``LogWriter`` that hands pjlib's messages to ``appliance.sip.pjlib``; it
    outlives ``libDestroy`` (the endpoint keeps it), so pjlib never writes to a dead one."""
    pjlib = logging.getLogger("appliance.sip.pjlib")

    class Writer(pj.LogWriter):  # type: ignore[misc]
        def write(self, entry: Any) -> None:
            pjlib.log(_LEVELS.get(int(entry.level), logging.DEBUG), "%s",
                      str(entry.msg).strip())

    return Writer()


@contextlib.contextmanager
def _stdout_silenced() -> Iterator[None]:
    """File descriptor 1 to /dev/null for a moment: ``libCreate`` prints pjlib's start-up
    lines to stdout at its default level before ``libInit`` can set the log writer (the
    daemons log to stderr or the journal, never stdout)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _id_taken(wrapper: object) -> bool:
    """Whether a retired ``Call`` wrapper's call id now belongs to another call up (it must
    not be destroyed then: see RETIRE_S); False for anything that is not a call."""
    active = getattr(wrapper, "isActive", None)
    return bool(active()) if callable(active) else False


def error_text(exc: BaseException) -> str:
    """What a pjsua2 error says (``pjsua2.Error.info()``), or the exception's text."""
    info = getattr(exc, "info", None)
    return str(info()) if callable(info) else str(exc)


@dataclass(frozen=True)
class EndpointSettings:
    """Where the back-end listens (loopback, behind Kamailio) and how many calls it takes."""

    bind_host: str = "127.0.0.1"
    port: int = 5070
    max_calls: int = 32


class SipEndpoint:
    """The one pjsua2 ``Endpoint`` of the process and the thread that owns it."""

    def __init__(self, settings: EndpointSettings) -> None:
        self.settings = settings
        #: Account and call wrappers kept alive until pjsua2 says they are gone.
        self.owned: dict[object, object] = {}
        self._work: queue.SimpleQueue[tuple[Callable[[Any], Any], Future[Any]]] = (
            queue.SimpleQueue())
        self._stopping = threading.Event()
        self._ready: Future[str] = Future()
        self._thread: threading.Thread | None = None
        self._closing = threading.Lock()
        self._closed = False
        self._log_writer: Any = None
        self._retired: list[tuple[float, object]] = []  # (when it may go, wrapper)
        #: Owner-thread hooks run before ``libDestroy``; what they return is kept alive
        #: until the library is gone (wrappers that must never be destroyed: PortPool).
        self.before_destroy: list[Callable[[], list[Any]]] = []

    def start(self) -> str:
        """Start the owner thread; return the SIP transport's ``host:port``.

        Blocks until pjsua2 is up, so call it from a worker thread, not the loop.
        Raises :class:`SipEndpointError` naming the address when the port is taken.
        """
        if self._thread is not None:
            raise SipEndpointError("the SIP endpoint is already started")
        self._thread = threading.Thread(target=self._run, name="pjsua2", daemon=True)
        self._thread.start()
        return self._ready.result()

    def submit(self, work: Callable[[Any], T]) -> Future[T]:
        """Run ``work(endpoint)`` on the owner thread; its result or error lands in the Future.

        ``work`` returns plain data, never a pjsua2 object: wrappers it keeps go in
        :attr:`owned`, so only the owner thread ever destroys one.
        """
        future: Future[T] = Future()
        with self._closing:
            if self._thread is None or self._closed or self._stopping.is_set():
                future.set_exception(SipEndpointError("the SIP endpoint is not running"))
                return future
            self._work.put((work, future))
        return future

    def retire(self, wrapper: object) -> None:
        """Keep a finished call's ``wrapper`` (owner thread only) for :data:`RETIRE_S`, and
        while its call id is another call's, before it is destroyed on this thread."""
        if wrapper is not None:
            self._retired.append((time.monotonic() + RETIRE_S, wrapper))

    def _reap(self) -> None:
        now = time.monotonic()
        if self._retired and self._retired[0][0] <= now:
            self._retired = [(when, w) for when, w in self._retired
                             if when > now or _id_taken(w)]

    def stop(self, timeout: float = 5.0) -> None:
        """Drop every owned wrapper, destroy the library and join the owner thread."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("the pjsua2 thread did not stop within %.1f s", timeout)

    def _run(self) -> None:
        pj = load_pjsua2()
        endpoint = pj.Endpoint()
        try:
            with _stdout_silenced():  # pjlib's start-up lines, before any log config applies
                endpoint.libCreate()
            config = pj.EpConfig()
            config.uaConfig.threadCnt = 0
            config.uaConfig.mainThreadOnly = False
            config.uaConfig.maxCalls = self.settings.max_calls
            # pjlib's errors and warnings go to the daemon's log (the journal), not stdout
            # (consoleLevel is the writer's level: with a writer, nothing reaches stdout)
            config.logConfig.level = 2
            config.logConfig.consoleLevel = 2
            config.logConfig.decor = pj.PJ_LOG_HAS_SENDER
            self._log_writer = _log_writer(pj)
            config.logConfig.writer = self._log_writer
            # The conference bridge runs at the engine's rate and frame: 8 kHz, 20 ms
            # (G.711, ITU-T G.711 §2); no VAD and no echo canceller, the engine owns audio.
            config.medConfig.clockRate = 8000
            config.medConfig.sndClockRate = 8000
            config.medConfig.audioFramePtime = 20
            config.medConfig.noVad = True
            config.medConfig.ecTailLen = 0
            endpoint.libInit(config)
            endpoint.audDevManager().setNullDev()
            check_vector_layout(pj)
            for codec in endpoint.codecEnum2():  # G.711 only: A-law first (E1), then mu-law
                endpoint.codecSetPriority(codec.codecId, CODEC_PRIORITY.get(
                    codec.codecId.split("/")[0], 0))
            transport = pj.TransportConfig()
            transport.boundAddress = self.settings.bind_host
            transport.port = self.settings.port
            transport_id = endpoint.transportCreate(pj.PJSIP_TRANSPORT_UDP, transport)
            endpoint.libStart()
            local = str(endpoint.transportGetInfo(transport_id).localName)
        except Exception as exc:  # pjsua2.Error: the port is taken, the address is not ours
            self._fail_start(endpoint, exc)
            return
        self._ready.set_result(local)
        log.info("pjsua2 endpoint listening on %s (maxCalls %d)", local, self.settings.max_calls)
        try:
            while not self._stopping.is_set():
                endpoint.libHandleEvents(POLL_MS)
                self._drain(endpoint)
                self._reap()
        finally:
            with self._closing:
                self._closed = True
            self._drain(endpoint)  # the last work: the BYEs of the legs hung up at stop
            if self._retired or any(isinstance(k, tuple) and k[0] == "call" for k in self.owned):
                linger = time.monotonic() + LINGER_S  # the BYEs' answers, the bridge's removals
                while time.monotonic() < linger:
                    endpoint.libHandleEvents(POLL_MS)
            kept = [wrapper for hook in self.before_destroy for wrapper in hook()]
            self.owned.clear()
            self._retired.clear()
            # NO_NETWORK: the BYEs are sent; do not sit in pjsua_destroy's one-second wait for
            # transactions and unregistrations the back-end never has (no registration)
            endpoint.libDestroy(pj.PJSUA_DESTROY_NO_NETWORK)
            del endpoint, kept

    def _fail_start(self, endpoint: Any, exc: BaseException) -> None:
        where = f"{self.settings.bind_host}:{self.settings.port}"
        reason = error_text(exc)
        with self._closing:
            self._closed = True
        self._ready.set_exception(SipEndpointError(f"SIP endpoint on {where}: {reason}"))
        endpoint.libDestroy()

    def _drain(self, endpoint: Any) -> None:
        while True:
            try:
                work, future = self._work.get_nowait()
            except queue.Empty:
                return
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(work(endpoint))
            except Exception as exc:  # every error of ``work`` goes to its submitter
                # The traceback's frames hold this thread's pjsua2 wrappers (the Endpoint,
                # whatever ``work`` made): dropped later on the caller's thread, unknown
                # to pjlib, their destructors abort the process. Hand over no frames.
                future.set_exception(exc.with_traceback(None))
                del exc
