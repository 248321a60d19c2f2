"""PriSpan: one E1 span's PRI signalling, driven by an asyncio loop.

The loop reader on the D-channel file descriptor feeds frames to libpri
(``pri_check_event``); libpri's own timers are run with ``pri_schedule_next``
/ ``pri_schedule_run``. Those timers are **wall-clock** inside libpri
(``gettimeofday``), so they are scheduled on the asyncio loop from the
difference to ``time.time()``; they cannot follow a VirtualClock. Every timer
of ours (overlap inter-digit timeout, recovery hold-off) uses the injectable
:class:`~appliance.runtime.clock.Clock`.

Per call the state machine is :class:`~appliance.signalling.pri.call.PriCall`;
per B-channel the maintenance state is :class:`ChannelState`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from appliance.config.sections.spans import SpanEntry
from appliance.runtime.clock import Clock, TimerHandle
from appliance.signalling.pri import causes
from appliance.signalling.pri import libpri as lp
from appliance.signalling.pri.call import CallState, CallStateError, PriCall
from appliance.signalling.pri.q931check import check_q931, q931_of
from drivers.span import (
    BCHANNELS,
    Span,
    SpanConfig,
    SpanEvent,
    SpanLinkLost,
    SpanOperationError,
    open_span,
)

log = logging.getLogger("appliance.signalling.pri")
SERVICE_SWITCHTYPES = ("ni2", "dms100", "lucent5e", "att4ess")
LINE_POLL_SECONDS = 1.0  # alarm/counter poll for backends without an event fd


class ChannelState(StrEnum):
    """B-channel maintenance/usage state (what MON-1 shows)."""

    IDLE = "idle"
    BUSY = "busy"
    BLOCKED_LOCAL = "blocked-local"  # busied out by us (SERVICE out of service)
    BLOCKED_REMOTE = "blocked-remote"  # far end sent SERVICE out of service
    ALARM = "alarm"  # span or D-channel down
    RESTARTING = "restarting"  # RESTART sent, waiting for RESTART ACKNOWLEDGE


@dataclass
class BChannel:
    number: int
    state: ChannelState = ChannelState.ALARM
    call: PriCall | None = None
    busied_out: bool = False
    remote_blocked: bool = False
    frames_missing: int = 0  # 20 ms blocks that arrived without this channel's frame

    def snapshot(self) -> dict[str, Any]:
        return {"channel": self.number, "state": self.state.value,
                "call_id": self.call.id if self.call else None,
                "call": self.call.snapshot() if self.call else None,
                "frames_missing": self.frames_missing}


# frames lost or repeated between the span and the media engine (MediaPort.frame_counts)
FRAME_COUNTS = ("concealed", "slips", "output_slips")


class MediaPort(Protocol):
    """Where B-channel audio goes: 160-sample int16 frames, one per channel per 20 ms.

    ``open_channel`` when a call on the B-channel is answered, ``close_channel``
    when it is cleared; in between ``receive``, ``timing``, ``transmit`` once per 20 ms
    block.
    """

    def open_channel(self, span: str, channel: int, call: PriCall) -> None: ...

    def close_channel(self, span: str, channel: int) -> None: ...

    def receive(self, span: str, frames: Mapping[int, npt.NDArray[np.int16]]) -> None:
        """The received frames of the span's active B-channels, one pass per block."""

    def transmit(self, span: str, channels: Sequence[int]) -> dict[int, npt.NDArray[np.int16]]:
        """What to send on ``channels`` (those the engine carries), one pass per block."""

    def timing(self, span: str, priority: int) -> None:
        """A whole block of ``span`` was received (between ``receive`` and ``transmit``);
        ``priority`` is its ``clock_priority`` as a timing source (0: never)."""

    def frame_counts(self, span: str, channel: int) -> dict[str, int]:
        """The B-channel's frames lost or repeated on the media side, over all its calls:
        ``concealed`` (ticks with no frame: silence played), ``slips`` (frames dropped,
        slip buffer full), ``output_slips`` (frames sent twice or never)."""


IncomingHandler = Callable[["PriSpan", PriCall], None]
CallListener = Callable[["PriSpan", PriCall, str], None]
AlarmListener = Callable[["PriSpan", "str | None"], None]


@dataclass
class SpanStats:
    inbound: int = 0
    outbound: int = 0
    answered: int = 0
    rejected: int = 0
    anomalies: int = 0
    frames_missing: int = 0  # active-call frames absent from a received block (all channels)


class PriSpan:
    """PRI call control on one span (user side by default, network side selectable)."""

    def __init__(
        self,
        entry: SpanEntry,
        span: Span,
        clock: Clock,
        *,
        on_incoming: IncomingHandler | None = None,
        media: MediaPort | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.entry = entry
        self.name = entry.name
        self.span = span
        self.clock = clock
        self.on_incoming = on_incoming
        self.media = media
        self.listeners: list[CallListener] = []
        self.alarm_listeners: list[AlarmListener] = []  # (span, reason or None when cleared)
        self._wall = wall_clock
        self.channels: dict[int, BChannel] = {ts: BChannel(ts) for ts in BCHANNELS}
        self.calls: dict[int, PriCall] = {}  # libpri call pointer -> call
        self._zombies: set[int] = set()  # libpri calls we cleared locally, libpri still tidying
        self.dchannel_up = False
        self.alarm: str | None = "D-channel not yet up"
        self.stats = SpanStats()
        self._rr_next = 0
        self._ctrl: lp.PriController | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pri_timer: asyncio.TimerHandle | None = None
        self._holdoff: TimerHandle | None = None
        self._line_poll: TimerHandle | None = None
        self._digit_timers: dict[int, TimerHandle] = {}
        self._dchan_empty = True
        self._line_alarm = False
        self._announced: str | None = None  # last alarm told to alarm_listeners
        self._closed = False
        self.link_lost = False  # the device link itself is gone: only reopening helps

    # -- lifecycle ---------------------------------------------------------------

    @classmethod
    def open(cls, entry: SpanEntry, clock: Clock, *, on_incoming: IncomingHandler | None = None,
             media: MediaPort | None = None) -> PriSpan:
        """Open the span named by ``entry.address`` (any backend) and start signalling on it;
        call from inside the running asyncio loop."""
        if entry.framing != "ccs":
            raise ValueError(f"span {entry.name}: ISDN PRI needs CCS framing, "
                             f"not {entry.framing!r} (G.704 §5.1: timeslot 16 carries the "
                             "D-channel)")
        pri = cls(entry, open_span(entry.address), clock, on_incoming=on_incoming, media=media)
        try:
            pri.start()
        except BaseException:
            pri.close()
            raise
        return pri

    def start(self) -> None:
        """Configure the line, create the libpri controller and attach loop readers."""
        entry = self.entry
        self.span.configure(SpanConfig(framing=entry.framing, crc4=entry.crc4,
                                       linecode=entry.linecode,
                                       clock_priority=entry.clock_priority, lbo=entry.lbo))
        node = lp.NETWORK if entry.node == "network" else lp.CPE
        self._ctrl = lp.PriController(self.name, self.span.dchannel_fileno(), node,
                                      lp.SWITCH_TYPES[entry.switchtype], self._read_frame,
                                      self.span.write_dframe)
        for timer in ("t200", "n200", "t203", "t309"):
            value = getattr(entry.timers, timer)
            if value:
                self._ctrl.set_timer(timer.upper(), value)
        if self.service_messages:
            lp.enable_service_messages(self._ctrl)
        lp.set_overlap(self._ctrl, entry.overlap)
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self.span.dchannel_fileno(), self._on_dchannel)
        control = self.span.control_fileno()
        if control is not None:
            self._loop.add_reader(control, self._on_control)
        else:  # backends without an event fd (DAHDI) are polled for alarms
            self._poll_line()
        audio = self.span.audio_fileno()
        if audio is not None:
            self._loop.add_reader(audio, self._on_audio)
        self._reschedule()
        log.info("span %s: PRI started (%s side, %s)", self.name, entry.node, entry.switchtype,
                 extra={"span": self.name})

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._loop is not None:
            for fd in (self.span.dchannel_fileno(), self.span.control_fileno(),
                       self.span.audio_fileno()):
                if fd is not None:
                    self._loop.remove_reader(fd)
        if self._pri_timer is not None:
            self._pri_timer.cancel()
        if self._holdoff is not None:
            self._holdoff.cancel()
        if self._line_poll is not None:
            self._line_poll.cancel()
        for timer in self._digit_timers.values():
            timer.cancel()
        if self._ctrl is not None:
            self._ctrl.close()
        self.span.close()

    @property
    def ctrl(self) -> lp.PriController:
        if self._ctrl is None:
            raise RuntimeError(f"span {self.name}: not started")
        return self._ctrl

    # -- loop plumbing -----------------------------------------------------------

    def _read_frame(self) -> bytes | None:
        frame = self.span.read_dframe()
        self._dchan_empty = frame is None
        if frame is not None:
            message = q931_of(frame)
            if message is not None:
                for problem in check_q931(message):
                    self.stats.anomalies += 1
                    log.warning("span %s: malformed Q.931 from the far end: %s [%s]", self.name,
                                problem, message[:32].hex(" "),
                                extra={"span": self.name, "anomaly": problem})
        return frame

    def _on_dchannel(self) -> None:
        for _ in range(64):  # bounded per wake-up so other spans get the loop
            started = time.perf_counter()
            try:
                event = self.ctrl.check_event()
            except SpanLinkLost as exc:
                self._link_lost(str(exc))
                return
            except SpanOperationError as exc:  # a frame not sent: LAPD retransmits it
                log.warning("span %s: D-channel: %s", self.name, exc, extra={"span": self.name})
                event = None
            if event is not None:
                self._dispatch(event, started)
            if self._dchan_empty:
                break
        self._reschedule()

    def _run_pri_timers(self) -> None:
        self._pri_timer = None
        try:
            event = self.ctrl.schedule_run()
        except SpanLinkLost as exc:
            self._link_lost(str(exc))
            return
        except SpanOperationError as exc:
            log.warning("span %s: D-channel write failed: %s", self.name, exc,
                        extra={"span": self.name})
            event = None
        if event is not None:
            self._dispatch(event)
        self._reschedule()

    def _reschedule(self) -> None:
        if self._closed or self._loop is None or self._ctrl is None:
            return
        due = self._ctrl.schedule_next()
        if self._pri_timer is not None:
            self._pri_timer.cancel()
            self._pri_timer = None
        if due is not None:
            # libpri timers are wall-clock (gettimeofday): convert to a loop delay
            self._pri_timer = self._loop.call_later(max(0.0, due - self._wall()),
                                                    self._run_pri_timers)

    def _link_lost(self, detail: str) -> None:
        log.error("span %s: %s", self.name, detail, extra={"span": self.name})
        if self._loop is not None:
            self._loop.remove_reader(self.span.dchannel_fileno())
        self.link_lost = True
        self._span_down(f"link lost: {detail}", causes.NETWORK_OUT_OF_ORDER)

    # -- line events -------------------------------------------------------------

    def _on_control(self) -> None:
        try:
            events = self.span.poll_events()
        except SpanOperationError as exc:
            log.error("span %s: %s", self.name, exc, extra={"span": self.name})
            self.stats.anomalies += 1
            return
        for event in events:
            self._line_event(event)

    def _poll_line(self) -> None:
        if self._closed:
            return
        self._on_control()
        self._line_poll = self.clock.call_later(LINE_POLL_SECONDS, self._poll_line)

    def _line_event(self, event: SpanEvent) -> None:
        if event.kind == "hangup":
            if self._loop is not None and self.span.control_fileno() is not None:
                self._loop.remove_reader(self.span.control_fileno())  # type: ignore[arg-type]
            self._span_down(f"link lost: {event.detail}", causes.NETWORK_OUT_OF_ORDER)
            return
        alarms = event.alarms
        if alarms.any:
            names = "+".join(alarms.names())
            self._line_alarm = True
            if self._holdoff is not None:
                self._holdoff.cancel()
                self._holdoff = None
            if event.detail:
                log.warning("span %s: line: %s", self.name, event.detail,
                            extra={"span": self.name, "alarm": names})
            self._span_down(f"{names} alarm", causes.NETWORK_OUT_OF_ORDER)
        elif self._line_alarm:
            self._line_alarm = False
            log.info("span %s: line alarms cleared; restart after %.1f s hold-off", self.name,
                     self.entry.recovery_holdoff, extra={"span": self.name})
            self._holdoff = self.clock.call_later(self.entry.recovery_holdoff, self._holdoff_done)
        elif event.detail:
            log.info("span %s: line event: %s (counters %s)", self.name, event.detail,
                     event.counters.as_dict(), extra={"span": self.name})

    def _holdoff_done(self) -> None:
        self._holdoff = None
        if self._line_alarm:
            return
        self.alarm = None if self.dchannel_up else "D-channel down"
        if self.dchannel_up:
            self.restart()

    def _span_down(self, reason: str, cause: int) -> None:
        """Q.931 §5.8.x / G.775: clear every call, block every channel, raise the alarm."""
        first = self.alarm is None or self.alarm != reason
        self.alarm = reason
        cleared = 0
        for channel in self.channels.values():
            if channel.call is not None:
                self._clear_locally(channel.call, cause)
                cleared += 1
            channel.state = ChannelState.ALARM
        if first:
            log.error("span %s: out of service: %s; %d call(s) cleared, channels blocked",
                      self.name, reason, cleared,
                      extra={"span": self.name, "alarm": reason, "cause": cause})
            self._alarm_changed(reason)
        self._reschedule()

    def _alarm_changed(self, reason: str | None) -> None:
        if reason is None and self._announced is None:
            return
        self._announced = reason
        for listener in list(self.alarm_listeners):
            listener(self, reason)

    # -- B-channel audio ---------------------------------------------------------

    def _on_audio(self) -> None:
        for _ in range(8):
            try:
                block = self.span.read_audio()
            except SpanLinkLost as exc:
                if self._loop is not None and self.span.audio_fileno() is not None:
                    self._loop.remove_reader(self.span.audio_fileno())  # type: ignore[arg-type]
                log.error("span %s: %s", self.name, exc, extra={"span": self.name})
                return
            if block is None:
                return
            self._audio_block(block)

    def _audio_block(self, block: dict[int, npt.NDArray[np.int16]]) -> None:
        """The span is clock slave: every received 20 ms block is answered by one we send.
        A span clocked from its line is also the engine's timing source (``clock_priority``):
        its block ticks the engine between the two, so what goes out is this tick's."""
        media = self.media
        if media is None:
            return
        active = [ts for ts, channel in self.channels.items()
                  if channel.call is not None and channel.call.state is CallState.ACTIVE]
        received: dict[int, npt.NDArray[np.int16]] = {}
        for ts in active:
            frame = block.get(ts)  # a backend may return only the channels that had data
            if frame is None:
                self.channels[ts].frames_missing += 1
                self.stats.frames_missing += 1
            else:
                received[ts] = frame
        if received:
            media.receive(self.name, received)
        media.timing(self.name, self.entry.clock_priority)
        out = media.transmit(self.name, active) if active else {}
        with contextlib.suppress(SpanOperationError):  # a full queue drops one block (a slip)
            self.span.write_audio(out)

    # -- libpri events -----------------------------------------------------------

    def _dispatch(self, event: lp.PriEvent, started: float | None = None) -> None:
        """Handle one copied libpri event; time spent (libpri decoding included when
        ``started`` is given) is added to the call's processing time."""
        started = time.perf_counter() if started is None else started
        call = None if lp.is_null(event.call) else self.calls.get(lp.call_key(event.call))
        try:
            self._handle(event)
        except (CallStateError, ValueError) as exc:  # far end out of step, or a bad channel
            self.stats.anomalies += 1
            log.warning("span %s: %s (event %s)", self.name, exc, event.name,
                        extra={"span": self.name, "channel": event.channel})
        finally:
            elapsed = time.perf_counter() - started
            if call is None and not lp.is_null(event.call):
                call = self.calls.get(lp.call_key(event.call))
            if call is not None:
                call.processing += elapsed

    def _handle(self, ev: lp.PriEvent) -> None:
        kind = ev.kind
        if kind == lp.EV_DCHAN_UP:
            self._dchan_up()
        elif kind == lp.EV_DCHAN_DOWN:
            self.dchannel_up = False
            self._span_down("D-channel down", causes.NETWORK_OUT_OF_ORDER)
        elif kind == lp.EV_RING:
            self._ring(ev)
        elif kind == lp.EV_INFO_RECEIVED:
            self._info(ev)
        elif kind in (lp.EV_HANGUP, lp.EV_HANGUP_REQ, lp.EV_HANGUP_ACK):
            self._hangup_event(ev)
        elif kind in (lp.EV_PROCEEDING, lp.EV_PROGRESS, lp.EV_SETUP_ACK, lp.EV_RINGING,
                      lp.EV_ANSWER, lp.EV_CONNECT_ACK):
            self._outbound_progress(ev)
        elif kind == lp.EV_RESTART:
            self._far_restart(ev.channel)
        elif kind == lp.EV_RESTART_ACK:
            self._restart_ack(ev.channel)
        elif kind == lp.EV_SERVICE:
            self._far_service(ev.channel, ev.changestatus)
        elif kind == lp.EV_SERVICE_ACK:
            log.info("span %s: SERVICE ACKNOWLEDGE for B%s (status %d)", self.name, ev.channel,
                     ev.changestatus, extra={"span": self.name, "channel": ev.channel})
        elif kind == lp.EV_CONFIG_ERR:
            self.stats.anomalies += 1
            log.error("span %s: libpri configuration error: %s", self.name, ev.error,
                      extra={"span": self.name})
        else:
            log.debug("span %s: libpri event %s ignored", self.name, ev.name,
                      extra={"span": self.name})

    def _dchan_up(self) -> None:
        self.dchannel_up = True
        log.info("span %s: D-channel up", self.name, extra={"span": self.name})
        if not self._line_alarm and self._holdoff is None:
            self.alarm = None
            self.restart()

    # -- restart and service -----------------------------------------------------

    def restart(self) -> None:
        """RESTART every B-channel (Q.931 §5.5, class 'indicated channels'), as libpri 1.6
        offers no whole-interface RESTART; each returns to service on its RESTART ACK."""
        for channel in self.channels.values():
            if channel.call is not None:
                self._clear_locally(channel.call, causes.NORMAL_UNSPECIFIED)
            channel.state = ChannelState.RESTARTING
        for number in self.channels:
            lp.restart_channel(self.ctrl, number)
        self._reschedule()
        log.info("span %s: RESTART sent for all B-channels", self.name, extra={"span": self.name})

    def restart_channel(self, number: int) -> None:
        """RESTART one B-channel (Q.931 §5.5, restart class 'indicated channel')."""
        channel = self._channel(number)
        if channel.call is not None:
            self._clear_locally(channel.call, causes.NORMAL_UNSPECIFIED)
        channel.state = ChannelState.RESTARTING
        lp.restart_channel(self.ctrl, number)
        self._reschedule()
        log.info("span %s: RESTART sent for B%d", self.name, number,
                 extra={"span": self.name, "channel": number})

    def _restart_ack(self, number: int | None) -> None:
        targets = self.channels.values() if number is None else [self._channel(number)]
        for channel in targets:
            if channel.state is ChannelState.RESTARTING:
                channel.state = self._rest_state(channel)
        if self.alarm is None and not any(ch.state is ChannelState.RESTARTING
                                          for ch in self.channels.values()):
            self._alarm_changed(None)
        log.info("span %s: RESTART ACKNOWLEDGE (%s); in service", self.name,
                 "all" if number is None else f"B{number}",
                 extra={"span": self.name, "channel": number})

    def _far_restart(self, number: int | None) -> None:
        targets: Iterable[BChannel] = (self.channels.values() if number is None
                                       else [self._channel(number)])
        cleared = 0
        for channel in targets:
            if channel.call is not None:
                self._clear_locally(channel.call, causes.TEMPORARY_FAILURE, send=False)
                cleared += 1
            if self.alarm is None:
                channel.state = self._rest_state(channel)
        log.warning("span %s: far end RESTART of %s; %d call(s) cleared", self.name,
                    "all channels" if number is None else f"B{number}", cleared,
                    extra={"span": self.name, "channel": number})

    @property
    def service_messages(self) -> bool:
        """SERVICE is a North American maintenance procedure: libpri sends and understands
        it only for NI2, DMS100, 5ESS and 4ESS; elsewhere busy-out is local only."""
        return self.entry.switchtype in SERVICE_SWITCHTYPES

    def busy_out(self, number: int) -> dict[str, Any]:
        """Take a B-channel out of service (OPS-1); a call on it finishes first.

        Returns the channel's snapshot (``state`` stays ``busy`` until that call ends).
        """
        channel = self._channel(number)
        channel.busied_out = True
        if channel.call is None and channel.state is ChannelState.IDLE:
            channel.state = ChannelState.BLOCKED_LOCAL
        if self.service_messages:
            lp.service(self.ctrl, number, lp.SERVICE_OUT)
            self._reschedule()
        log.info("span %s: B%d busied out", self.name, number,
                 extra={"span": self.name, "channel": number})
        return channel.snapshot()

    def return_to_service(self, number: int) -> dict[str, Any]:
        """Undo :meth:`busy_out`; returns the channel's snapshot."""
        channel = self._channel(number)
        channel.busied_out = False
        if channel.state is ChannelState.BLOCKED_LOCAL:
            channel.state = self._rest_state(channel)
        if self.service_messages:
            lp.service(self.ctrl, number, lp.SERVICE_IN)
            self._reschedule()
        return channel.snapshot()

    def _far_service(self, number: int | None, status: int) -> None:
        if number is None:
            return
        channel = self._channel(number)
        channel.remote_blocked = status != lp.SERVICE_IN
        if channel.call is None and channel.state in (ChannelState.IDLE,
                                                      ChannelState.BLOCKED_REMOTE):
            channel.state = self._rest_state(channel)
        log.info("span %s: far end SERVICE B%d %s", self.name, number,
                 "in service" if status == lp.SERVICE_IN else "out of service",
                 extra={"span": self.name, "channel": number})

    def _rest_state(self, channel: BChannel) -> ChannelState:
        if self.alarm is not None:
            return ChannelState.ALARM
        if channel.busied_out:
            return ChannelState.BLOCKED_LOCAL
        if channel.remote_blocked:
            return ChannelState.BLOCKED_REMOTE
        return ChannelState.IDLE

    def _channel(self, number: int) -> BChannel:
        try:
            return self.channels[number]
        except KeyError:
            raise ValueError(f"span {self.name}: B-channel {number} does not exist "
                             "(E1 B-channels are timeslots 1-15 and 17-31)") from None

    # -- inbound -----------------------------------------------------------------

    def _free_channels(self, order: Iterable[int]) -> list[int]:
        return [ts for ts in order if self.channels[ts].state is ChannelState.IDLE]

    def _ring(self, ev: lp.PriEvent) -> None:
        """SETUP received (Q.931 §5.2.1): pick the B-channel, then overlap or proceed."""
        self.stats.inbound += 1
        handle = ev.call
        requested = ev.channel
        channel: int | None = None
        if requested is not None and requested in self.channels:
            target = self.channels[requested]
            if target.state is ChannelState.IDLE:
                channel = requested
            elif (target.call is not None and target.call.direction == "outbound"
                  and target.call.state is CallState.CALL_INITIATED and self.entry.node == "cpe"):
                # Glare (Q.931 §5.2.3.1 note): the network's choice wins on the user side;
                # our SETUP will be given another channel in CALL PROCEEDING, or refused.
                glared = target.call
                target.call = None
                glared.channel = None
                channel = requested
                log.warning("span %s: glare on B%d; incoming call takes it", self.name,
                            requested, extra={"span": self.name, "channel": requested})
            elif ev.flexible:
                free = self._free_channels(BCHANNELS)
                channel = free[0] if free else None
        elif requested is None:
            free = self._free_channels(BCHANNELS)
            channel = free[0] if free else None
        if channel is None:
            self.stats.rejected += 1
            cause = (causes.REQUESTED_CHANNEL_UNAVAILABLE if requested is not None
                     else causes.NO_CIRCUIT_AVAILABLE)
            log.warning("span %s: SETUP refused, B%s unavailable (cause %d)", self.name,
                        requested, cause, extra={"span": self.name, "channel": requested,
                                                 "cause": cause})
            lp.hangup(self.ctrl, handle, cause)
            self._zombies.add(lp.call_key(handle))
            return
        pres_restricted = (ev.calling_pres & lp.PRES_RESTRICTION_MASK) != 0
        call = PriCall(
            span=self.name, direction="inbound", channel=channel,
            calling_number=ev.calling_number, calling_name=ev.calling_name,
            presentation="restricted" if pres_restricted else "allowed",
            called_number=ev.called_number, started=self.clock.monotonic(), handle=handle,
        )
        call.fire("recv-setup")
        self._bind(call, channel)
        if self.entry.overlap and not ev.complete and not self._number_complete(call):
            lp.need_more_info(self.ctrl, handle, channel)
            call.fire("send-setup-ack")
            self._arm_digit_timer(call)
            return
        self._proceed(call)

    def _number_complete(self, call: PriCall) -> bool:
        wanted = self.entry.overlap_digits
        return wanted > 0 and len(call.called_number) >= wanted

    def _arm_digit_timer(self, call: PriCall) -> None:
        old = self._digit_timers.pop(call.id, None)
        if old is not None:
            old.cancel()
        self._digit_timers[call.id] = self.clock.call_later(self.entry.overlap_timeout,
                                                            self._digit_timeout, call)

    def _digit_timeout(self, call: PriCall) -> None:
        self._digit_timers.pop(call.id, None)
        if call.state is not CallState.OVERLAP_RECEIVING:
            return
        if not call.called_number:
            self.hangup(call, "invalid-number")
            return
        self._proceed(call)

    def _info(self, ev: lp.PriEvent) -> None:
        call = self.calls.get(lp.call_key(ev.call))
        if call is None or call.state is not CallState.OVERLAP_RECEIVING:
            return
        call.fire("recv-info")
        call.called_number += ev.called_number
        if ev.complete or self._number_complete(call):
            self._proceed(call)
        else:
            self._arm_digit_timer(call)

    def _proceed(self, call: PriCall) -> None:
        timer = self._digit_timers.pop(call.id, None)
        if timer is not None:
            timer.cancel()
        assert call.channel is not None
        lp.proceeding(self.ctrl, call.handle, call.channel)
        call.fire("send-proceeding")
        self._notify(call, "offered")
        if self.on_incoming is not None:
            try:
                self.on_incoming(self, call)
            except Exception:  # the application failed: do not leave the caller hanging
                log.exception("span %s: incoming-call handler failed for call %d on B%s; "
                              "clearing it", self.name, call.id, call.channel,
                              extra={"span": self.name, "channel": call.channel})
                if call.state is not CallState.NULL:
                    self.hangup(call, "temporary-failure")
        self._reschedule()

    def alert(self, call: PriCall) -> None:
        """ALERTING towards the caller (Q.931 §5.2.5.1)."""
        call.fire("send-alerting")
        assert call.channel is not None
        lp.acknowledge(self.ctrl, call.handle, call.channel, inband=False)
        self._reschedule()

    def answer(self, call: PriCall) -> None:
        """CONNECT (Q.931 §5.2.8); the B-channel carries audio from now on."""
        call.fire("send-connect")
        assert call.channel is not None
        lp.answer(self.ctrl, call.handle, call.channel)
        call.answered = self.clock.monotonic()
        self.stats.answered += 1
        self._media_open(call)
        self._notify(call, "answered")
        self._reschedule()

    # -- outbound ----------------------------------------------------------------

    def _hunt(self) -> int | None:
        entry = self.entry
        if entry.hunt == "list" and entry.hunt_list:
            order: list[int] = list(entry.hunt_list)
        elif entry.hunt == "ascending":
            order = list(BCHANNELS)
        elif entry.hunt == "round-robin":
            order = list(BCHANNELS[self._rr_next:] + BCHANNELS[: self._rr_next])
        else:
            order = list(reversed(BCHANNELS))
        free = self._free_channels(order)
        if not free:
            return None
        if entry.hunt == "round-robin":
            self._rr_next = (BCHANNELS.index(free[0]) + 1) % len(BCHANNELS)
        return free[0]

    def dial(self, called: str, calling: str = "", presentation: str = "allowed") -> PriCall:
        """Place an outbound call (SETUP, Q.931 §5.1.1) on a B-channel from the hunt order."""
        if self.alarm is not None:
            raise SpanOperationError(f"span {self.name}: cannot dial, span out of service "
                                     f"({self.alarm})")
        channel = self._hunt()
        if channel is None:
            raise SpanOperationError(f"span {self.name}: no idle B-channel (all busy/blocked)")
        pres = lp.PRES_RESTRICTED if presentation == "restricted" else lp.PRES_ALLOWED
        handle = self.ctrl.new_call()
        call = PriCall(span=self.name, direction="outbound", channel=channel,
                       calling_number=calling, called_number=called,
                       presentation="restricted" if presentation == "restricted" else "allowed",
                       started=self.clock.monotonic(), handle=handle)
        self._bind(call, channel)
        exclusive = self.entry.exclusive or self.entry.node == "network"
        if self.ctrl.setup(handle, channel, exclusive, called, calling, pres) != 0:
            self._unbind(call)
            raise SpanOperationError(f"span {self.name}: libpri refused SETUP on B{channel}")
        call.fire("send-setup")
        self.stats.outbound += 1
        self._reschedule()
        return call

    def _outbound_progress(self, ev: lp.PriEvent) -> None:
        call = self.calls.get(lp.call_key(ev.call))
        if call is None:
            self.stats.anomalies += 1
            log.warning("span %s: %s for an unknown call reference %d", self.name, ev.name,
                        ev.cref, extra={"span": self.name, "channel": ev.channel})
            return
        if ev.channel is not None and ev.channel != call.channel and ev.channel in self.channels:
            self._rebind(call, ev.channel)
        stimulus = {
            lp.EV_PROCEEDING: "recv-proceeding", lp.EV_PROGRESS: "recv-progress",
            lp.EV_SETUP_ACK: "recv-setup-ack", lp.EV_RINGING: "recv-alerting",
            lp.EV_ANSWER: "recv-connect", lp.EV_CONNECT_ACK: "recv-connect-ack",
        }[ev.kind]
        if not call.can(stimulus) and stimulus in ("recv-progress", "recv-proceeding",
                                                    "recv-connect-ack"):
            return  # informational; Q.931 §5.8.4 allows ignoring them here
        call.fire(stimulus)
        if stimulus == "recv-connect":
            call.answered = self.clock.monotonic()
            self.stats.answered += 1
            self._media_open(call)
            self._notify(call, "answered")
        elif stimulus == "recv-alerting":
            self._notify(call, "alerting")

    def _rebind(self, call: PriCall, number: int) -> None:
        target = self.channels[number]
        if target.call is not None and target.call is not call:
            log.warning("span %s: network moved call %d to busy B%d; clearing it", self.name,
                        call.id, number, extra={"span": self.name, "channel": number})
            self.hangup(call, "channel-unavailable")
            return
        if call.channel is not None and self.channels[call.channel].call is call:
            old = self.channels[call.channel]
            old.call = None
            old.state = self._rest_state(old)
        self._bind(call, number)

    # -- clearing ----------------------------------------------------------------

    def hangup(self, call: PriCall, reason: str = "normal") -> None:
        """Clear a call from our side (DISCONNECT, Q.931 §5.3.2) with a Q.850 cause."""
        cause = causes.cause_for(reason)
        if call.state is CallState.NULL:
            return
        call.cause = cause
        call.fire("send-disconnect")
        lp.hangup(self.ctrl, call.handle, cause)
        self._reschedule()

    def _hangup_event(self, ev: lp.PriEvent) -> None:
        key = lp.call_key(ev.call)
        call = self.calls.get(key)
        if call is None:
            if ev.kind == lp.EV_HANGUP and not lp.is_null(ev.call):
                lp.hangup(self.ctrl, ev.call, ev.cause)  # or RELEASE COMPLETE is never sent
            self._zombies.discard(key)
            return
        if ev.kind == lp.EV_HANGUP_REQ:  # DISCONNECT received (Q.931 §5.3.4)
            call.cause = ev.cause
            if call.can("recv-disconnect"):
                call.fire("recv-disconnect")
            lp.hangup(self.ctrl, call.handle, ev.cause)  # RELEASE
            if call.can("send-release"):
                call.fire("send-release")
            self._notify(call, "disconnected")
            return
        if ev.kind == lp.EV_HANGUP:  # RELEASE / RELEASE COMPLETE received
            if call.cause is None:
                call.cause = ev.cause
            lp.hangup(self.ctrl, call.handle, ev.cause)
            call.fire("recv-release")
        else:  # HANGUP_ACK: our clearing finished
            call.fire("recv-release-ack" if call.can("recv-release-ack") else "local-clear")
        self._finish(call)

    def _clear_locally(self, call: PriCall, cause: int, send: bool = True) -> None:
        """Clear a call at once (span down, restart): the application sees it end now;
        libpri finishes its own clearing (T305/T308) on the zombie call reference."""
        if call.state is CallState.NULL:
            self._finish(call)
            return
        call.cause = cause
        call.fire("local-clear")
        if send:
            lp.hangup(self.ctrl, call.handle, cause)
            self._zombies.add(lp.call_key(call.handle))
        self._finish(call)

    def _media_open(self, call: PriCall) -> None:
        if self.media is not None and call.channel is not None:
            self.media.open_channel(self.name, call.channel, call)

    def _finish(self, call: PriCall) -> None:
        if self.media is not None and call.channel is not None and call.answered is not None:
            self.media.close_channel(self.name, call.channel)
        call.ended = self.clock.monotonic()
        timer = self._digit_timers.pop(call.id, None)
        if timer is not None:
            timer.cancel()
        self._unbind(call)
        self._notify(call, "cleared")

    def _bind(self, call: PriCall, number: int) -> None:
        call.channel = number
        channel = self.channels[number]
        channel.call = call
        channel.state = ChannelState.BUSY
        self.calls[lp.call_key(call.handle)] = call

    def _unbind(self, call: PriCall) -> None:
        self.calls.pop(lp.call_key(call.handle), None)
        if call.channel is not None:
            channel = self.channels[call.channel]
            if channel.call is call:
                channel.call = None
                if channel.state is ChannelState.BUSY:
                    channel.state = self._rest_state(channel)

    def _notify(self, call: PriCall, what: str) -> None:
        log.info("span %s: call %d %s on B%s (%s -> %s)%s", self.name, call.id, what,
                 call.channel, call.calling_number or "-", call.called_number or "-",
                 f" cause {call.cause}" if call.cause is not None else "",
                 extra={"span": self.name, "channel": call.channel, "cause": call.cause})
        for listener in list(self.listeners):
            listener(self, call, what)

    # -- status (MON-1, OPS-1) ---------------------------------------------------

    def status(self) -> dict[str, Any]:
        """A JSON-ready snapshot of the span, its alarms and every B-channel (MON-1, OPS-1).

        ``state`` is ``in-service``, ``alarm`` (a line alarm or loopback), ``down``
        (D-channel not up) or ``restarting``; ``alarms`` lists the line alarms
        (red, yellow, blue, loopback); ``channels`` one entry per B-channel.
        """
        alarms = self.span.alarms()
        counts: dict[str, int] = {}
        for channel in self.channels.values():
            counts[channel.state.value] = counts.get(channel.state.value, 0) + 1
        if self.alarm is None:
            state = ("restarting" if counts.get(ChannelState.RESTARTING.value)
                     else "in-service")
        else:
            state = "alarm" if self._line_alarm or alarms.any else "down"
        busy = counts.get(ChannelState.BUSY.value, 0)
        idle = counts.get(ChannelState.IDLE.value, 0)
        channels = [ch.snapshot() for ch in self.channels.values()]
        for snap in channels:
            frames = self.media.frame_counts(self.name, snap["channel"]) if self.media else {}
            snap.update({key: frames.get(key, 0) for key in FRAME_COUNTS})
        return {
            "name": self.name,
            "address": self.span.address,
            "node": self.entry.node,
            "switchtype": self.entry.switchtype,
            "framing": self.entry.framing,
            "linecode": self.entry.linecode,
            "crc4": self.entry.crc4,
            "clock_priority": self.entry.clock_priority,
            "state": state,
            "in_service": self.alarm is None,
            "alarm": self.alarm,
            "alarms": alarms.names(),
            "dchannel": "up" if self.dchannel_up else "down",
            "counters": self.span.counters().as_dict(),
            "loopback": self.span.loopback_mode.value,
            "busy": busy,
            "idle": idle,
            "blocked": len(self.channels) - busy - idle,
            "channel_counts": counts,
            "channels": channels,
            "stats": {"inbound": self.stats.inbound, "outbound": self.stats.outbound,
                      "answered": self.stats.answered, "rejected": self.stats.rejected,
                      "anomalies": self.stats.anomalies,
                      "frames_missing": self.stats.frames_missing,
                      **{key: sum(c[key] for c in channels) for key in FRAME_COUNTS}},
        }
