"""The asyncio service both daemons are built on.

A daemon is a :class:`Service` plus :class:`Component` objects (cards,
signalling, media, power policy ...). The service owns what every daemon
needs: configuration loading and reload, the database, the control socket and
its event stream, systemd notification and watchdog, structured logging and
signal handling. ``SIGTERM`` stops it gracefully within ``stop_timeout``;
``SIGHUP`` reloads the configuration file and keeps the running one if the
new file is refused.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import faulthandler
import json
import logging
import os
import signal
import sqlite3
import sys
import time
from collections.abc import Sequence
from typing import Any, Literal

import sqlite_utils

from appliance import __version__
from appliance.auth.guard import AccountGuard, Principal
from appliance.config import ApplianceConfig, ConfigErrors, config_path_from, load_config
from appliance.config.diff import changed_keys, covered
from appliance.config.validate import to_plain
from appliance.runtime.clock import Clock, RealClock
from appliance.runtime.collector import CollectorWatch
from appliance.runtime.control import ControlError, ControlServer
from appliance.runtime.events import EventBus
from appliance.runtime.logs import LEVELS, setup_logging
from appliance.runtime.notify import notify, watchdog_interval
from appliance.runtime.stall import StallDetector
from appliance.store import StoreError, open_database
from appliance.store.audit import Entry, append
from appliance.store.db import connect
from appliance.store.writer import DatabaseWriter

log = logging.getLogger("appliance.runtime")

# what powerd reads of the configuration; telephonyd reads everything but these
POWERD_SECTIONS = frozenset({"paths", "logging", "powerd", "power", "host"})
POWERD_KEYS = frozenset({"rig.board", "rig.ups", "rig.watchdog"})
SERVICE_LIVE_KEYS = frozenset({"logging.level"})  # the service itself applies these
# the request parameter an audit row names as its target, first present wins
TARGET_PARAMS = ("call_id", "agent", "span", "port", "channel", "queue", "recording_id", "number",
                 "name", "path")
SECRET_PARAMS = frozenset({"password", "secret", "auth_pass"})

DaemonName = Literal["telephonyd", "powerd"]


class Component:
    """A part of a daemon with a life cycle; override what you need."""

    name = "component"

    async def start(self, service: Service) -> None:
        """Open devices, register control methods; called once, in order."""

    async def stop(self) -> None:
        """Release everything; must be safe to call twice and after a failed start."""

    # the configuration keys (``section`` or ``section.key``) :meth:`reconfigure` applies
    # for real; any other changed key this daemon reads waits for a restart
    live_keys: frozenset[str] = frozenset()

    async def reconfigure(self, config: ApplianceConfig) -> None:
        """Take a new, already validated configuration (the keys of :attr:`live_keys`)."""

    def status(self) -> dict[str, Any]:
        return {}

    def healthy(self) -> bool:
        return True

    async def prepare_shutdown(self) -> dict[str, int]:
        """Power is going: take no new work, close files (PWR-2); returns counts of what closed."""
        return {}

    async def resume(self) -> None:
        """Power came back before the point of no return: take new work again."""


class Service:
    """One daemon process: configuration, database, control socket, components."""

    def __init__(
        self,
        name: DaemonName,
        config_path: str,
        config: ApplianceConfig,
        components: Sequence[Component] = (),
        clock: Clock | None = None,
    ) -> None:
        self.name = name
        self.config_path = config_path
        self.config = config
        self.clock: Clock = clock or RealClock()
        self.bus = EventBus(self.clock.time)
        self.components = list(components)
        guard = AccountGuard(config.paths.database_path)
        self.control = ControlServer(
            config.control_socket(name), self.bus,
            guard=guard, auditor=self.audit_request,
            socket_group=config.paths.socket_group, accounts=guard.account,
        )
        self.db: sqlite_utils.Database | None = None
        # appended rows (audit, service events, call records) commit here, off the loop
        self.writer: DatabaseWriter | None = None
        self.state = "starting"
        self.started_at = time.time()
        self._stopping = asyncio.Event()
        self._watchdog_task: asyncio.Task[None] | None = None
        self.stall: StallDetector | None = None
        self.collector = CollectorWatch()
        self._stall_task: asyncio.Task[None] | None = None
        self._reload_lock = asyncio.Lock()
        self._reload_tasks: set[asyncio.Task[None]] = set()
        self.restart_required: list[str] = []  # changed keys applied only at the next start
        self.control.register("status", self._status, needs="status.read")
        self.control.register("config.apply", self._config_apply, needs="config.apply")
        self.control.register("config.show", self._config_show, needs="config.read")

    # -- life cycle -----------------------------------------------------
    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.request_stop)
        loop.add_signal_handler(signal.SIGINT, self.request_stop)
        loop.add_signal_handler(signal.SIGHUP, self._on_sighup)
        try:
            await self._start()
        except (StoreError, ControlError, OSError) as exc:
            log.error("cannot start: %s", exc, extra={"daemon": self.name})
            await self._shutdown()
            return 1
        except Exception:
            log.exception("cannot start: a component failed", extra={"daemon": self.name})
            await self._shutdown()
            return 1
        await self._stopping.wait()
        try:
            await asyncio.wait_for(self._shutdown(), self.config.daemon(self.name).stop_timeout)
        except TimeoutError:
            log.error("graceful stop took too long; exiting anyway", extra={"daemon": self.name})
            return 1
        return 0

    async def _start(self) -> None:
        notify(STATUS="starting")
        self.db = open_database(self.config.paths.database_path)
        path = self.config.paths.database_path
        self.writer = DatabaseWriter(lambda: connect(path))
        self.record_service_event("start", {"version": __version__, "pid": os.getpid()})
        self.stall = StallDetector(asyncio.get_running_loop().time)
        self._stall_task = asyncio.create_task(self.stall.run())
        await self.control.start()
        for component in self.components:
            await component.start(self)
        self.state = "running"
        interval = watchdog_interval()
        if interval:
            self._watchdog_task = asyncio.create_task(self._pet_watchdog(interval))
        self.collector.freeze_startup_heap()  # before READY: its one full pass is not a stall
        self.collector.start()
        notify(READY=1, STATUS=f"running; control socket {self.control.path}")
        self.record_service_event("ready", {})
        self.bus.publish("service.ready", daemon=self.name)
        log.info("ready", extra={"daemon": self.name, "socket": self.control.path})

    def request_stop(self) -> None:
        if not self._stopping.is_set():
            log.info("stopping", extra={"daemon": self.name})
            self.state = "stopping"
            notify(STOPPING=1, STATUS="stopping")
            self._stopping.set()

    async def _shutdown(self) -> None:
        self.bus.publish("service.stopping", daemon=self.name)
        if self._watchdog_task:
            self._watchdog_task.cancel()
        if self._stall_task:
            self._stall_task.cancel()
        self.collector.stop()
        for component in reversed(self.components):
            try:
                await component.stop()
            except Exception:
                log.exception("component failed to stop", extra={"component": component.name})
        await self.control.stop()
        if self.db is not None:
            self.record_service_event("stop", {})
        if self.writer is not None:
            await asyncio.to_thread(self.writer.stop)  # commits what is queued
            self.writer = None
        if self.db is not None:
            self.db.conn.close()
            self.db = None
        self.state = "stopped"

    def healthy(self) -> bool:
        return self.state == "running" and all(c.healthy() for c in self.components)

    async def _pet_watchdog(self, interval: float) -> None:
        # sd_watchdog_enabled(3): pet at half the period or faster; only while healthy,
        # so a wedged component makes systemd restart us
        period = interval * self.config.daemon(self.name).watchdog_fraction
        while True:
            if self.healthy():
                notify(WATCHDOG=1)
            await asyncio.sleep(period)

    def _on_sighup(self) -> None:
        task = asyncio.ensure_future(self._reload_on_sighup())
        self._reload_tasks.add(task)
        task.add_done_callback(self._reload_tasks.discard)

    # -- configuration ----------------------------------------------------
    def reads(self, key: str) -> bool:
        """Whether this daemon uses configuration ``key`` at all (docs/configuration.md)."""
        section = key.split(".", 1)[0]
        if self.name == "powerd":
            return section in POWERD_SECTIONS or key in POWERD_KEYS
        return section != "power" and section != "powerd"

    async def apply_config(self, new_config: ApplianceConfig, source: str) -> dict[str, Any]:
        """Hand ``new_config`` to the components; say what took effect and what waits."""
        changed = [k for k in changed_keys(self.config, new_config) if self.reads(k)]
        live = frozenset().union(SERVICE_LIVE_KEYS, *(c.live_keys for c in self.components))
        applied = [k for k in changed if covered(k, live)]
        waiting = [k for k in changed if not covered(k, live)]
        if new_config.logging.level != self.config.logging.level:
            logging.getLogger().setLevel(LEVELS.get(new_config.logging.level, logging.INFO))
        for component in self.components:
            await component.reconfigure(new_config)
        self.config = new_config
        self.restart_required = sorted({*self.restart_required, *waiting})
        report = {"applied": applied, "restart_required": waiting, "source": source}
        await asyncio.to_thread(self.record_service_event, "reload", report)
        self.bus.publish("service.reload", daemon=self.name, **report)
        log.info("configuration applied: %s live, %s after a restart",
                 ", ".join(applied) or "nothing", ", ".join(waiting) or "nothing",
                 extra={"daemon": self.name, "source": source})
        return report

    async def reload_from_file(self, path: str | None = None,
                               force: bool = False) -> dict[str, Any]:
        async with self._reload_lock:  # two SIGHUPs never run two reloads at once
            return await self._reload(path or self.config_path, force)

    async def _reload_on_sighup(self) -> None:
        try:
            await self.reload_from_file()
        except ControlError as exc:
            log.error("SIGHUP: configuration not reloaded: %s", exc.message,
                      extra={"daemon": self.name})
        except Exception:
            log.exception("SIGHUP: reload failed; running configuration kept",
                          extra={"daemon": self.name})

    async def _reload(self, source: str, force: bool) -> dict[str, Any]:
        notify(RELOADING=1, MONOTONIC_USEC=int(time.monotonic() * 1e6))
        try:  # a regular file of at most 1 MiB, read and parsed in a worker (no FIFO stall)
            new_config = await asyncio.to_thread(load_config, source)
        except ConfigErrors as exc:
            errors = [e.as_dict() for e in exc.errors]
            self.record_service_event("reload-refused", {"source": source, "errors": errors})
            self.bus.publish(
                "service.reload_refused", daemon=self.name, source=source, errors=errors
            )
            for error in exc.errors:
                log.error(
                    "configuration refused: %s",
                    error,
                    extra={"daemon": self.name, "file": error.file, "line": error.line},
                )
            notify(READY=1, STATUS="running; last reload refused")
            raise ControlError(
                "config-invalid",
                f"{source}: {len(errors)} error(s); running configuration kept",
                {"errors": errors},
            ) from exc
        if (self.config.rig.spans or self.config.rig.ports) and not (
                new_config.rig.spans or new_config.rig.ports) and not force:
            notify(READY=1, STATUS="running; last reload refused")
            raise ControlError(
                "refused",
                f"{source} has no [[rig.spans]] and no [[rig.ports]]: applying it would take "
                "down every line; running configuration kept (force to apply anyway)")
        report = await self.apply_config(new_config, source)
        notify(READY=1, STATUS=f"running; reloaded {source}")
        return report

    async def _config_apply(self, params: dict[str, Any]) -> dict[str, Any]:
        path = params.get("path", self.config_path)
        force = params.get("force", False)
        if not isinstance(path, str):
            raise ControlError("bad-params", "'path' must be a string")
        if not isinstance(force, bool):
            raise ControlError("bad-params", "'force' must be true or false")
        return await self.reload_from_file(path, force)

    async def _config_show(self, params: dict[str, Any]) -> Any:
        return to_plain(self.config)

    # -- status and records -------------------------------------------------
    def hardware(self) -> dict[str, Any]:
        rig = self.config.rig
        return {
            "spans": [{"name": s.name, "address": s.address} for s in rig.spans],
            "ports": [{"name": p.name, "kind": p.kind, "address": p.address} for p in rig.ports],
            "board": rig.board,
            "ups": rig.ups,
            "watchdog": rig.watchdog,
        }

    async def _status(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "daemon": self.name,
            "state": self.state,
            "healthy": self.healthy(),
            "version": __version__,
            "pid": os.getpid(),
            "uptime": round(time.time() - self.started_at, 3),
            "config": self.config_path,
            "hardware": self.hardware(),
            "components": {c.name: c.status() for c in self.components},
            "subscribers": self.bus.subscriber_count,
            "loop": self.stall.status() if self.stall else {},
            "gc": self.collector.status(),
            "control": {"clients": self.control.clients,
                        "refused_connections": self.control.refused_connections,
                        "dropped_slow_readers": self.control.dropped_slow_readers,
                        "paced_requests": self.control.paced_requests},
            "restart_required": self.restart_required,
        }

    def record_service_event(self, event: str, detail: dict[str, Any]) -> None:
        if self.writer is None:
            return
        row = (self.clock.time(), self.name, event, json.dumps(detail, default=str))

        def insert(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO service_events (at, daemon, event, detail) VALUES (?, ?, ?, ?)", row)

        self.writer.submit(insert)

    def audit_request(self, principal: Principal, method: str, params: dict[str, Any],
                      outcome: str) -> None:
        """One audit row for a control request, with the kernel's word for who sent it (ADM-2)."""
        if self.writer is None:
            log.warning("not audited (no database): %s by %s: %s", method, principal.name,
                        outcome)
            return
        target = next((str(params[k]) for k in TARGET_PARAMS if params.get(k) not in (None, "")),
                      "")
        detail = {k: ("***" if k in SECRET_PARAMS else v) for k, v in params.items()}
        entry = Entry(action=method, actor=principal.name,
                      origin=f"{self.name} {principal.origin}", target=target,
                      outcome=outcome, detail=detail, at=self.clock.time())
        self.writer.submit(lambda conn: append(conn, entry))


def daemon_main(name: DaemonName, components_for: Any, argv: Sequence[str] | None = None) -> int:
    """Entry point shared by both daemons: parse arguments, load config, run the service.

    ``components_for(config)`` returns the daemon's components.
    """
    parser = argparse.ArgumentParser(
        prog=f"appliance-{name}", description=f"appliance-{name} daemon"
    )
    parser.add_argument(
        "--config",
        help="configuration file (default $APPLIANCE_CONFIG or /etc/appliance/appliance.toml)",
    )
    args = parser.parse_args(argv)
    path = config_path_from(args.config)
    # a fatal signal in native code (pjsua2, libpri) prints every thread's Python stack
    # to stderr (the journal) before the process dies: a crash names its place
    faulthandler.enable()
    setup_logging(f"appliance-{name}")
    try:
        config = load_config(path)
    except ConfigErrors as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        print(f"appliance-{name}: configuration refused; not starting", file=sys.stderr)
        return 2
    setup_logging(f"appliance-{name}", config.logging.level, config.logging.target)
    service = Service(name, path, config, components_for(config))

    async def main() -> int:
        return await service.run()

    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(main())
    return 0
