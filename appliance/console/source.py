"""What the console shows: the daemons' state, polled over their control sockets.

A background thread polls telephonyd and powerd once per interval, each with
its own short timeout, so a daemon that is down or hung is reported as such
("not running", "not answering") and never freezes the screen. Actions are
single calls with a timeout, made from the screen's thread.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from appliance.runtime.control import ControlClient, ControlError

Daemon = Literal["telephonyd", "powerd"]
DAEMONS: tuple[Daemon, ...] = ("telephonyd", "powerd")
TELEPHONY_METHODS = ("spans.list", "ports.list", "calls.list", "queues.list", "agents.list")


@dataclass
class DaemonView:
    """One daemon as last seen: ``ok``, ``down`` (not running) or ``hung`` (not answering)."""

    name: str
    health: Literal["ok", "down", "hung", "unknown"] = "unknown"
    message: str = "not polled yet"
    results: dict[str, Any] = field(default_factory=dict)
    at: float = 0.0

    def get(self, method: str, key: str) -> list[dict[str, Any]]:
        result = self.results.get(method)
        if isinstance(result, dict) and isinstance(result.get(key), list):
            return list(result[key])
        return []


@dataclass
class Snapshot:
    telephonyd: DaemonView
    powerd: DaemonView
    journal: list[dict[str, Any]] = field(default_factory=list)
    journal_error: str = ""

    def daemon(self, name: str) -> DaemonView:
        view: DaemonView = getattr(self, name)
        return view


class DataSource:
    """Polls both daemons in a thread; ``on_update`` is called after every poll."""

    def __init__(self, sockets: dict[str, str], *, interval: float = 1.0, timeout: float = 2.0,
                 journal_reader: Callable[[], list[dict[str, Any]]] | None = None) -> None:
        self.sockets = sockets
        self.interval = interval
        self.timeout = timeout
        self.journal_reader = journal_reader
        self.span_detail: str | None = None  # span whose channels are polled (spans.show)
        self.want_history = False
        self.want_sip = False  # the SIP screen is up: poll sip.phones (it asks Kamailio)
        # the account logged in at the console: the daemons authorise and audit every
        # request as it (ControlServer "as"), not as the console process's Unix user
        self.act_as = ""
        self.want_journal = False
        self._snapshot = Snapshot(DaemonView("telephonyd"), DaemonView("powerd"))
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._journal_at = 0.0

    @property
    def snapshot(self) -> Snapshot:
        with self._lock:
            return self._snapshot

    def call(self, daemon: Daemon, method: str, **params: Any) -> Any:
        """One action; raises ControlError (codes of docs/control-protocol.md)."""
        return asyncio.run(self._call(daemon, method, params))

    async def _call(self, daemon: Daemon, method: str, params: dict[str, Any]) -> Any:
        async with ControlClient(self.sockets[daemon], self.timeout, self.act_as) as client:
            return await client.call(method, **params)

    async def _poll_daemon(
        self, name: Daemon, methods: list[tuple[str, dict[str, Any]]]
    ) -> DaemonView:
        view = DaemonView(name, at=time.time())
        client = ControlClient(self.sockets[name], self.timeout, self.act_as)
        try:
            await client.connect()
            for method, params in methods:
                try:
                    view.results[method] = await client.call(method, **params)
                except ControlError as exc:
                    if exc.code in ("unavailable", "timeout"):
                        raise
                    view.results[method] = {"error": exc.message}
            view.health, view.message = "ok", "running"
        except ControlError as exc:
            if exc.code == "timeout":
                view.health, view.message = "hung", f"{name} is not answering (hung?)"
            else:
                view.health, view.message = "down", f"{name} is not running"
        finally:
            await client.close()
        return view

    async def _poll(self) -> Snapshot:
        telephony: list[tuple[str, dict[str, Any]]] = [(m, {}) for m in TELEPHONY_METHODS]
        if self.span_detail:
            telephony.append(("spans.show", {"span": self.span_detail}))
        if self.want_sip:
            telephony.extend([("sip.phones", {}), ("sip.trunks", {})])
        power: list[tuple[str, dict[str, Any]]] = [("power.status", {})]
        if self.want_history:
            power.append(("power.history", {"limit": 8}))
        tel, pwr = await asyncio.gather(
            self._poll_daemon("telephonyd", telephony), self._poll_daemon("powerd", power)
        )
        return Snapshot(tel, pwr)

    def poll_once(self) -> Snapshot:
        snapshot = asyncio.run(self._poll())
        previous = self.snapshot
        snapshot.journal, snapshot.journal_error = previous.journal, previous.journal_error
        if self.want_journal and self.journal_reader is not None and (
            time.monotonic() - self._journal_at >= 5.0 or not previous.journal
        ):
            self._journal_at = time.monotonic()
            try:
                snapshot.journal, snapshot.journal_error = self.journal_reader(), ""
            except Exception as exc:  # the log screen shows why the journal cannot be read
                snapshot.journal_error = str(exc)
        with self._lock:
            self._snapshot = snapshot
        return snapshot

    def poke(self) -> None:
        """Poll now (after an action or a change of screen)."""
        self._wake.set()

    def start(self, on_update: Callable[[], None]) -> None:
        def run() -> None:
            while not self._stop.is_set():
                self.poll_once()
                on_update()
                self._wake.wait(self.interval)
                self._wake.clear()

        self._thread = threading.Thread(target=run, name="console-poll", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
