"""PowerService: the whole of appliance-powerd's logic, hosted by the daemon runtime.

Loops (each on the injectable clock, each beating a heart the watchdog loop checks):

- rail: the INA219 on the mains-fed input rail, every ``rail_poll_interval``:
  sees a mains loss before the UPS reports it;
- ups: the UPS (NUT or Megatec), every ``ups_poll_interval``; stale data past
  ``ups_stale_after`` counts as unknown on mains and as on battery on battery
  (its charge and runtime no longer used); ``max_on_battery`` after the mains
  loss a timer starts the orderly shutdown whatever the UPS says;
- telephony: ``telephony_health()`` every ``telephony_check_interval``; a timer
  re-armed at each healthy answer engages the lifeline exactly
  ``telephony_timeout`` after the last one, or at once when telephonyd is not
  running at all (:class:`TelephonyDown`);
- relays: contact readback and hook sense every ``relay_check_interval``;
  pending returns from the lifeline are retried here;
- watchdog: pets the hardware watchdog every ``watchdog_interval`` only while
  every other loop has beaten within ``loop_stall`` and the relays are under
  control; otherwise stops petting, so the board drops the relays itself.

Blocking driver calls go through ``io`` (``asyncio.to_thread`` by default).
Control requests: :meth:`handle_status`, :meth:`handle_history`,
:meth:`handle_test_lifeline` (``power.status``, ``power.history``,
``power.test_lifeline``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import sqlite_utils

from appliance.config.sections.power import PowerSection
from appliance.power.events import PowerEventLog, Publisher
from appliance.power.lifeline import Lifeline, PairState
from appliance.power.policy import PowerInputs, PowerPolicy, PowerState, Transition
from appliance.power.shutdown import CommandRunner, run_command, within
from appliance.runtime.clock import Clock, TimerHandle
from appliance.runtime.control import ControlError
from drivers.board import BoardError, LifelineBoard
from drivers.errors import DriverError
from drivers.ups import Ups, UpsReading
from drivers.watchdog import Watchdog, WatchdogError

log = logging.getLogger("appliance.power")

T = TypeVar("T")
ALERT_FLAGS = {"RB": "ups-replace-battery", "ALARM": "ups-alarm", "OVER": "ups-overload"}
HealthProbe = Callable[[], Awaitable[bool]]


class TelephonyDown(Exception):
    """telephonyd is not running at all (its control socket refuses or is gone).

    A health probe raises it instead of answering False: a hung daemon gets
    ``telephony_timeout`` to recover, a dead one has already dropped its calls, so
    the carrier lines go to the analog phones at once until it is back (PWR-3).
    """
PrepareShutdown = Callable[[float], Awaitable[bool]]
Resume = Callable[[], Awaitable[None]]


async def _to_thread(fn: Callable[[], T]) -> T:
    return await asyncio.to_thread(fn)


class PowerService:
    def __init__(
        self,
        config: PowerSection,
        clock: Clock,
        *,
        ups: Ups | None,
        board: LifelineBoard | None,
        watchdog: Watchdog | None,
        telephony_health: HealthProbe,
        telephony_prepare_shutdown: PrepareShutdown,
        telephony_resume: Resume | None = None,
        db: sqlite_utils.Database | None = None,
        publish: Publisher | None = None,
        io: Callable[[Callable[[], Any]], Awaitable[Any]] = _to_thread,
        command_runner: CommandRunner = run_command,
    ) -> None:
        self.config = config
        self.clock = clock
        self.ups = ups
        self.board = board
        self.watchdog = watchdog
        self.telephony_health = telephony_health
        self.telephony_prepare_shutdown = telephony_prepare_shutdown
        self.telephony_resume = telephony_resume
        self._io = io
        self._run_command = command_runner
        self.events = PowerEventLog(clock, db, publish)
        self.policy = PowerPolicy(low_runtime=config.low_runtime, low_charge=config.low_charge,
                                  max_on_battery=config.max_on_battery)
        self._on_battery_since: float | None = None
        self._battery_timer: TimerHandle | None = None
        self.lifeline = Lifeline(board, [], io, self.events.record)
        self.ups_reading: UpsReading | None = None
        self._ups_fresh_at: float | None = None
        self._ups_fresh: UpsReading | None = None
        self._ups_alert_flags: set[str] = set()
        self._ups_stale_reported = False
        self.rail_ok: bool | None = None
        self.rail_volts: float | None = None
        self.rail_amps: float | None = None
        self._rail_votes: list[bool | None] = []
        self.temperature: float | None = None
        self.telephony_healthy: bool | None = None
        self._telephony_timer: TimerHandle | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._beats: dict[str, float] = {}
        self._shutdown_task: asyncio.Task[None] | None = None
        self._test_timer: TimerHandle | None = None
        self.shutdown_steps: list[tuple[str, float]] = []
        self.command_status: int | None = None
        self._petting = True
        self._started = False
        self._stopped = False
        self._lock = asyncio.Lock()
        self._doubt = False
        self._crashed: set[str] = set()

    # ---- life cycle ----------------------------------------------------------------------
    async def reconfigure(self, config: PowerSection) -> None:
        """New ``[power]`` settings on the running daemon (ADM-1), except the lifeline
        pairs, which are wired at start: thresholds, intervals and commands hold from
        the next check; the time-on-battery limit of an outage in progress counts from
        its start; a changed ``lifeline_on`` engages or releases the lines now."""
        self.config = dataclasses.replace(config, pairs=self.config.pairs)
        self.policy.low_runtime = config.low_runtime
        self.policy.low_charge = config.low_charge
        self.policy.max_on_battery = config.max_on_battery
        if self._battery_timer is not None and self._on_battery_since is not None:
            self._battery_timer.cancel()
            spent = self.clock.monotonic() - self._on_battery_since
            self._battery_timer = self.clock.call_later(
                max(0.0, config.max_on_battery - spent), self._battery_time_up)
        if self.policy.state is PowerState.ON_BATTERY:
            if config.lifeline_on == "on_battery":
                await self.lifeline.engage("power", {"power": self.policy.state.value})
            else:
                await self.lifeline.release("power")

    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        self.events.record("starting", "", "powerd-start", {})
        pairs = await self._open_board()
        self.lifeline.pairs = pairs
        if self.watchdog is not None:
            wd = self.watchdog
            try:
                await self._io(wd.open)
            except DriverError as exc:
                log.error("power: hardware watchdog unavailable (%s); relays still fail safe "
                          "only if powerd stops cleanly", exc)
                self.watchdog = None
        loops: list[tuple[str, Callable[[], Coroutine[Any, Any, None]]]] = [
            ("rail", self._rail_loop), ("ups", self._ups_loop),
            ("telephony", self._telephony_loop), ("relays", self._relay_loop),
            ("watchdog", self._watchdog_loop),
        ]
        now = self.clock.monotonic()
        for name, loop in loops:
            self._beats[name] = now
            self._tasks.append(asyncio.create_task(self._guard(name, loop), name=f"power-{name}"))
        self._arm_telephony_timer()

    async def _open_board(self) -> list[PairState]:
        if self.board is None:
            log.error("power: no lifeline board configured: the lines stay on lifeline")
            return []
        board = self.board
        try:
            identity = await self._io(board.open)
        except DriverError as exc:
            log.critical("power: lifeline board unusable (%s); relays stay de-energised "
                         "(lines on lifeline)", exc)
            self.lifeline.board = None
            self.lifeline.board_error = str(exc)
            self.lifeline.failsafe_needed = True
            self.events.record("board_fault", "", "board-open-failed", {"error": str(exc)})
            return []
        self.events.record("board", "", "identified", identity.as_dict())
        configured = {p.relay: p for p in self.config.pairs}
        pairs: list[PairState] = []
        for index in range(len(identity.pairs)):
            entry = configured.get(index)
            if configured and entry is None:
                continue
            pairs.append(PairState(index=index, name=entry.name if entry else f"pair{index}",
                                   fxo=entry.fxo if entry else "", fxs=entry.fxs if entry else ""))
        for relay in configured:
            if relay >= len(identity.pairs):
                log.error("power: [power.pairs] names relay %d but board %s has only %d",
                          relay, identity.serial, len(identity.pairs))
        return pairs

    async def stop(self) -> None:
        """Engage the lifeline, stop every loop, then disarm the watchdog (magic close)."""
        if self._stopped:
            return
        self._stopped = True
        for timer in (self._telephony_timer, self._test_timer, self._battery_timer):
            if timer is not None:
                timer.cancel()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._shutdown_task is not None and not self._shutdown_task.done():
            self._shutdown_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._shutdown_task
        await self.lifeline.engage("stopping")
        self.events.record("stopped", self.policy.state.value, "powerd-stop",
                           {"lifeline": self.lifeline.engaged})
        if self.watchdog is not None:
            wd = self.watchdog
            try:
                if self.lifeline.failsafe_needed:
                    await self._io(wd.close)  # leave it running: it must drop the relays
                else:
                    await self._io(wd.disarm)
            except WatchdogError as exc:
                log.error("power: watchdog close failed: %s", exc)
        for closer in (self.board, self.ups):
            if closer is not None:
                try:
                    await self._io(closer.close)
                except DriverError as exc:
                    log.error("power: closing %s failed: %s", type(closer).__name__, exc)

    async def _guard(self, name: str, loop: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run one loop; an unexpected error is logged, and the loop's heart stops beating."""
        try:
            await loop()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("power: the %s loop failed; the watchdog will no longer be petted", name)
            self._beats[name] = float("-inf")
            self._crashed.add(name)

    def _beat(self, name: str) -> None:
        self._beats[name] = self.clock.monotonic()

    # ---- input rail ----------------------------------------------------------------------
    async def _rail_loop(self) -> None:
        while True:
            await self.sample_rail()
            self._beat("rail")
            await self.clock.sleep(self.config.rail_poll_interval)

    async def sample_rail(self) -> None:
        vote: bool | None
        if self.lifeline.board is None:
            vote = None
        else:
            board = self.lifeline.board
            try:
                rail = await self._io(board.read_rail)
                self.rail_volts, self.rail_amps = rail.volts, rail.amps
                vote = rail.volts >= self.config.rail_min_volts
            except BoardError as exc:
                if self.rail_ok is not None:
                    log.error("power: input rail unreadable (%s): mains state from the UPS only",
                              exc)
                vote = None
        self._rail_votes = ([*self._rail_votes, vote])[-self.config.rail_confirm_samples :]
        if len(self._rail_votes) == self.config.rail_confirm_samples and all(
            v == vote for v in self._rail_votes
        ) and vote != self.rail_ok:
            self.rail_ok = vote
            await self.evaluate()

    # ---- UPS -----------------------------------------------------------------------------
    async def _ups_loop(self) -> None:
        while True:
            await self.sample_ups()
            self._beat("ups")
            await self.clock.sleep(self.config.ups_poll_interval)

    async def sample_ups(self) -> None:
        if self.ups is None:
            return
        reading: UpsReading = await self._io(self.ups.read)
        now = self.clock.monotonic()
        if not reading.stale:
            self._ups_fresh_at = now
            self._ups_fresh = reading
            self._ups_alerts(reading)
            if self._ups_stale_reported:
                self._ups_stale_reported = False
                self.events.record("ups_ok", "ups_stale", "ups-data-fresh", reading.as_dict())
        elif not self._ups_stale_reported and (
            self._ups_fresh_at is None or now - self._ups_fresh_at > self.config.ups_stale_after
        ):
            self._ups_stale_reported = True
            self.events.record("ups_stale", "ups_ok", reading.error or "ups-data-stale",
                               reading.as_dict())
        self.ups_reading = reading
        await self.evaluate()

    def _ups_alerts(self, reading: UpsReading) -> None:
        """PWR-1 alerts: replace battery, UPS alarm, overload, raised and cleared."""
        flags = reading.status & ALERT_FLAGS.keys()
        for flag in sorted(flags - self._ups_alert_flags):
            self.events.record("ups_alert", "", ALERT_FLAGS[flag], reading.as_dict())
        for flag in sorted(self._ups_alert_flags - flags):
            self.events.record("ups_alert_cleared", "", ALERT_FLAGS[flag], {})
        self._ups_alert_flags = set(flags)

    def ups_current(self) -> UpsReading | None:
        """The last fresh UPS reading while younger than ``ups_stale_after``, else None.

        A short run of failed polls (a retry, a reconnect) does not put the power in doubt.
        """
        if self._ups_fresh is None or self._ups_fresh_at is None:
            return None
        if self.clock.monotonic() - self._ups_fresh_at > self.config.ups_stale_after:
            return None
        return self._ups_fresh

    def on_battery_for(self) -> float | None:
        """Seconds since the mains was lost, None on mains."""
        if self._on_battery_since is None:
            return None
        return self.clock.monotonic() - self._on_battery_since

    def inputs(self) -> PowerInputs:
        ups = self.ups_current()
        fsd = bool(self.ups_reading and self.ups_reading.forced_shutdown)
        # On battery a UPS that lies or falls silent is no reason for doubt, nor is its last
        # "on line" a sign of mains: the battery still runs down. It counts as on battery; its
        # last charge and runtime count until ups_stale_after, then only the time-on-battery
        # limit decides (issue 13 item 6). Mains back needs the rail, or a fresh reading
        # taken since the loss (one from before it says nothing about now).
        since = self._on_battery_since
        held = since is not None and self.rail_ok is not True and (
            self.ups_reading is None or self.ups_reading.stale
            or self._ups_fresh_at is None or self._ups_fresh_at < since
        )
        return PowerInputs(
            rail_ok=self.rail_ok,
            ups_online=False if held else (ups.on_line if ups else None),
            ups_on_battery=held or bool(ups and ups.on_battery),
            ups_testing=bool(ups and "CAL" in ups.status),
            low_battery_flag=bool(ups and ups.low_battery),
            fsd=fsd,
            charge=ups.charge if ups else None,
            runtime=ups.runtime if ups else None,
            on_battery_for=self.on_battery_for(),
        )

    # ---- policy --------------------------------------------------------------------------
    async def evaluate(self) -> None:
        async with self._lock:
            inputs = self.inputs()
            doubt = inputs.mains_ok() is None
            if doubt != self._doubt:
                self._doubt = doubt
                if doubt:
                    self.events.record("power_unknown", self.policy.state.value,
                                       "ups-stale-and-rail-unreadable", {})
                    await self.lifeline.engage("power-unknown")
                else:
                    await self.lifeline.release("power-unknown")
            transition = self.policy.observe(inputs)
            if transition is not None:
                await self._act(transition)

    async def _act(self, t: Transition) -> None:
        self.events.record(t.state.value, t.previous.value, t.reason, t.detail)
        if t.state is PowerState.ON_BATTERY:
            self._on_battery_since = self.clock.monotonic()
            self._battery_timer = self.clock.call_later(self.config.max_on_battery,
                                                        self._battery_time_up)
            if self.config.lifeline_on == "on_battery":
                await self.lifeline.engage("power", {"power": t.state.value})
        elif t.state is PowerState.LOW_BATTERY:
            await self.lifeline.engage("power", {"power": t.state.value})
            if self._shutdown_task is None or self._shutdown_task.done():
                self._shutdown_task = asyncio.create_task(self._shutdown_sequence(t.reason))
        elif t.state is PowerState.MAINS:
            self._on_battery_since = None
            if self._battery_timer is not None:
                self._battery_timer.cancel()
                self._battery_timer = None
            if self._shutdown_task is not None and not self._shutdown_task.done():
                self._shutdown_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._shutdown_task
                self._step("cancelled")
                if self.telephony_resume is not None:
                    try:
                        await self.telephony_resume()
                    except Exception as exc:  # resuming is best effort: the power is back
                        log.error("power: telephonyd did not take the resume request: %s: %s",
                                  type(exc).__name__, exc)
            await self.lifeline.release("power")

    def _battery_time_up(self) -> None:
        """``max_on_battery`` has passed: evaluate now, the UPS loop may be stuck on a read."""
        if not self._stopped:
            self._tasks.append(asyncio.ensure_future(self.evaluate()))

    def _step(self, name: str) -> None:
        self.shutdown_steps.append((name, self.clock.monotonic()))
        log.warning("power: shutdown step %s", name, extra={"step": name})

    async def _shutdown_sequence(self, reason: str) -> None:
        self.shutdown_steps = []
        self._step("start")
        deadline = self.config.prepare_deadline
        self._step("telephony-prepare")
        try:
            finished, ack = await within(self.clock, deadline,
                                         self.telephony_prepare_shutdown(deadline))
        except Exception as exc:  # whatever went wrong over there, the shutdown must go on
            log.error("power: telephonyd prepare-shutdown failed: %s: %s",
                      type(exc).__name__, exc)
            finished, ack = True, False
        if finished and ack:
            self._step("telephony-ack")
            why = "telephony-ready"
        else:
            self._step("telephony-deadline")
            why = "prepare-deadline-passed" if not finished else "telephony-refused"
            log.error("power: telephonyd did not confirm recordings closed and database flushed "
                      "(%s); shutting down anyway to protect the disk", why)
        # the point of no return
        transition = self.policy.point_of_no_return(why)
        self.events.record(transition.state.value, transition.previous.value, why,
                           {"trigger": reason, "ack": bool(ack)})
        self._step("command")
        self.command_status = await self._run_command(
            list(self.config.shutdown_command), self.config.shutdown_command_timeout
        )
        self._step("command-done")
        if self.config.ups_shutdown_return and self.ups is not None:
            ups = self.ups
            try:
                await self._io(lambda: ups.command("shutdown.return"))
            except DriverError as exc:
                log.error("power: UPS shutdown.return failed: %s", exc)

    # ---- telephonyd health ---------------------------------------------------------------
    def _arm_telephony_timer(self) -> None:
        if self._telephony_timer is not None:
            self._telephony_timer.cancel()
        self._telephony_timer = self.clock.call_later(
            self.config.telephony_timeout, self._telephony_expired
        )

    def _telephony_expired(self) -> None:
        if self._stopped:
            return
        log.error("power: telephonyd not healthy for %.1f s: engaging the lifeline",
                  self.config.telephony_timeout)
        self._tasks.append(asyncio.ensure_future(self.lifeline.engage(
            "telephony-unhealthy", {"timeout": self.config.telephony_timeout})))

    async def _telephony_loop(self) -> None:
        while True:
            await self.check_telephony()
            self._beat("telephony")
            await self.clock.sleep(self.config.telephony_check_interval)

    async def check_telephony(self) -> None:
        try:
            finished, healthy = await within(
                self.clock, self.config.telephony_check_interval, self.telephony_health()
            )
        except TelephonyDown as exc:
            finished, healthy, down = True, False, str(exc)
        except Exception as exc:  # any other failure of the probe means "not healthy"
            finished, healthy, down = True, False, ""
            log.debug("power: telephonyd health check failed: %s: %s", type(exc).__name__, exc)
        else:
            down = ""
        ok = bool(finished and healthy)
        if ok != self.telephony_healthy:
            self.events.record("telephony_healthy" if ok else "telephony_unhealthy",
                               "", "health-check", {"down": down} if down else {})
        self.telephony_healthy = ok
        if down and "telephony-down" not in self.lifeline.reasons:
            log.error("power: telephonyd is not running (%s): engaging the lifeline", down)
            await self.lifeline.engage("telephony-down", {"error": down})
        if ok:
            self._arm_telephony_timer()
            await self.lifeline.release("starting")
            await self.lifeline.release("telephony-unhealthy")
            await self.lifeline.release("telephony-down")

    # ---- relays, temperature and the watchdog ---------------------------------------------
    async def _relay_loop(self) -> None:
        while True:
            await self.lifeline.poll()
            await self._read_temperature()
            self._beat("relays")
            await self.clock.sleep(self.config.relay_check_interval)

    async def _read_temperature(self) -> None:
        board = self.lifeline.board
        if board is None:
            return
        try:
            celsius = await self._io(board.temperature)
        except BoardError as exc:
            log.debug("power: board temperature unreadable: %s", exc)
            return
        if celsius >= self.config.temperature_alarm and (
            self.temperature is None or self.temperature < self.config.temperature_alarm
        ):
            self.events.record("temperature_alarm", "", "over-limit", {"celsius": celsius})
        self.temperature = celsius

    def loop_healthy(self) -> tuple[bool, str]:
        now = self.clock.monotonic()
        if self._crashed:
            return False, f"the {', '.join(sorted(self._crashed))} loop(s) crashed"
        for name, beat in self._beats.items():
            # the UPS loop may wait seconds on a hung upsd or a silent serial line: that is
            # handled as stale UPS data, not as powerd being unhealthy (unless it crashed)
            limit = float("inf") if name in ("watchdog", "ups") else self.config.loop_stall
            if now - beat > limit:
                return False, f"the {name} loop has not run for {now - beat:.1f} s"
        if self.lifeline.failsafe_needed:
            return False, "the relays cannot be driven over I2C"
        return True, ""

    async def _watchdog_loop(self) -> None:
        while True:
            await self.pet_watchdog()
            self._beat("watchdog")
            await self.clock.sleep(self.config.watchdog_interval)

    async def pet_watchdog(self) -> None:
        if self.watchdog is None:
            return
        healthy, why = self.loop_healthy()
        if not healthy:
            if self._petting:
                self._petting = False
                log.critical("power: %s: no longer petting the hardware watchdog; the board "
                             "will drop the relays (lifeline)", why)
                self.events.record("watchdog_starved", "", why, {})
            return
        if not self._petting:
            self._petting = True
            log.warning("power: loops healthy again; petting the watchdog")
        wd = self.watchdog
        try:
            await self._io(wd.pet)
        except WatchdogError as exc:
            log.error("power: watchdog pet failed: %s", exc)

    # ---- control requests ----------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        reading = self.ups_reading
        return {
            "state": self.policy.state.value,
            "fsd": self.policy.fsd_latched,
            "mains": self.inputs().mains_ok(),
            "on_battery_for": self.on_battery_for(),
            "input": {"ok": self.rail_ok, "volts": self.rail_volts, "amps": self.rail_amps},
            "ups": reading.as_dict() if reading else None,
            "ups_identity": dict(self.ups.identity) if self.ups else {},
            "telephony_healthy": self.telephony_healthy,
            "lifeline": self.lifeline.status(),
            "temperature": self.temperature,
            "watchdog": {"present": self.watchdog is not None, "petting": self._petting},
            "shutdown_steps": [{"step": s, "at": t} for s, t in self.shutdown_steps],
        }

    async def handle_status(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.status()

    async def handle_history(self, params: dict[str, Any]) -> dict[str, Any]:
        limit = params.get("limit", 50)
        since = params.get("since")
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 10000:
            raise ControlError("bad-params", "'limit' must be an integer from 1 to 10000")
        if since is not None and (isinstance(since, bool) or not isinstance(since, int | float)):
            raise ControlError("bad-params", "'since' must be epoch seconds")
        return {"events": self.events.history(limit, since)}

    async def handle_test_lifeline(self, params: dict[str, Any]) -> dict[str, Any]:
        """Hold the lifeline for ``seconds`` (OPS-1 failover test); report the contacts."""
        seconds = params.get("seconds", self.config.lifeline_test_seconds)
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not (
            0 < seconds <= 3600
        ):
            raise ControlError("bad-params", "'seconds' must be a number from 0 to 3600")
        self.events.record("lifeline_test", "", "operator", {"seconds": seconds})
        await self.lifeline.engage("test", {"seconds": seconds})
        verified = await self.lifeline.verify()
        if self._test_timer is not None:
            self._test_timer.cancel()
        self._test_timer = self.clock.call_later(float(seconds), self._end_test)
        return {"engaged": self.lifeline.engaged, "contacts_verified": verified,
                "seconds": seconds, "until": self.clock.time() + float(seconds),
                "lifeline": self.lifeline.status()}

    def _end_test(self) -> None:
        self._tasks.append(asyncio.ensure_future(self.lifeline.release("test")))
