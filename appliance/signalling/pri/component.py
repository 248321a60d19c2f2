"""The E1/PRI spans inside appliance-telephonyd: open, watch, reopen, control.

One :class:`PriSpan` per ``[[rig.spans]]`` entry. A span whose device cannot
be opened (card missing, simulator not running) is reported ``down`` with the
reason and retried every ``REOPEN_SECONDS`` on the daemon's clock, so one bad
span never keeps the daemon or the other spans from working. Control methods
and event topics are those of docs/control-protocol.md (spans.*,
``span.alarm``, ``span.channel``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from appliance.config import ApplianceConfig
from appliance.config.sections.spans import SpanEntry
from appliance.media.component import MediaComponent
from appliance.runtime.clock import TimerHandle
from appliance.runtime.control import ControlError
from appliance.runtime.service import Component, Service
from appliance.signalling.pri.call import PriCall
from appliance.signalling.pri.media import EngineMediaPort
from appliance.signalling.pri.span import CallListener, PriSpan
from drivers.errors import DriverError

log = logging.getLogger("appliance.pri")

REOPEN_SECONDS = 5.0
LOOPBACK_MODES = ("off", "local", "remote", "payload")

IncomingHandler = Callable[[PriSpan, PriCall], None]


def reject_when_unrouted(span: PriSpan, call: PriCall) -> None:
    """Used until a call router is attached: refuse with cause 34 (no circuit available)."""
    span.hangup(call, "congestion")


LOOPBACK_SETTLE_S = 2.0  # the line reports a loop within one poll; a dead line does not


class SpansComponent(Component):
    name = "spans"

    def __init__(self, media: MediaComponent) -> None:
        self._media = media
        self._port: EngineMediaPort | None = None
        self.on_incoming: IncomingHandler = reject_when_unrouted
        self.call_listeners: list[CallListener] = []
        # (span, libpri call number) -> the call core's call id, once the PRI legs exist
        self.core_call_id: Callable[[str, int], str | None] = lambda span, number: None
        self.spans: dict[str, PriSpan] = {}
        self._failed: dict[str, str] = {}  # span name -> why it could not be opened
        self._entries: dict[str, SpanEntry] = {}
        self._retry: TimerHandle | None = None
        self._service: Service | None = None

    def media_port(self) -> EngineMediaPort:
        """The one port through which every span's B-channels reach the media engine."""
        if self._port is None:
            assert self._media.engine is not None, "the media component starts first"
            self._port = EngineMediaPort(self._media.engine)
        return self._port

    # -- life cycle ---------------------------------------------------------------
    async def start(self, service: Service) -> None:
        self._service = service
        for method, handler, needs in (
            ("spans.list", self._list, "spans.read"),
            ("spans.show", self._show, "spans.read"),
            ("spans.busy_out", self._busy_out, "spans.maintain"),
            ("spans.loopback", self._loopback, "spans.maintain"),
        ):
            service.control.register(method, handler, needs=needs)
        self._entries = {entry.name: entry for entry in service.config.rig.spans}
        for entry in self._entries.values():
            self._open(entry)
        self._schedule_retry()

    def _open(self, entry: SpanEntry) -> None:
        assert self._service is not None
        try:
            span = PriSpan.open(
                entry, self._service.clock, on_incoming=self._incoming, media=self.media_port()
            )
        except (DriverError, OSError, ValueError) as exc:
            if self._failed.get(entry.name) != str(exc):
                log.error(
                    "span %s cannot be opened: %s (retrying every %g s)",
                    entry.name,
                    exc,
                    REOPEN_SECONDS,
                    extra={"span": entry.name, "address": entry.address},
                )
                self._publish("span.alarm", span=entry.name, alarm=f"cannot open: {exc}")
            self._failed[entry.name] = str(exc)
            return
        self._failed.pop(entry.name, None)
        span.listeners.append(self._call_changed)
        span.alarm_listeners.append(self._alarm_changed)
        self.spans[entry.name] = span

    def _schedule_retry(self) -> None:
        assert self._service is not None
        if self._failed:
            self._retry = self._service.clock.call_later(REOPEN_SECONDS, self._reopen_failed)

    def _reopen_failed(self) -> None:
        self._retry = None
        for name in list(self._failed):
            if name in self._entries:
                self._open(self._entries[name])
        self._schedule_retry()

    async def stop(self) -> None:
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        for span in self.spans.values():
            span.close()
        self.spans.clear()

    live_keys = frozenset({"rig.spans"})  # spans added, removed or changed are re-opened

    async def reconfigure(self, config: ApplianceConfig) -> None:
        new = {entry.name: entry for entry in config.rig.spans}
        for name in list(self.spans):
            if new.get(name) != self._entries.get(name):
                self.spans.pop(name).close()
        for name in list(self._failed):
            if name not in new:
                self._failed.pop(name)
        self._entries = new
        for name, entry in new.items():
            if name not in self.spans:
                self._open(entry)
        if self._retry is None:
            self._schedule_retry()

    # -- events -------------------------------------------------------------------
    def _incoming(self, span: PriSpan, call: PriCall) -> None:
        self.on_incoming(span, call)

    def _publish(self, topic: str, **data: Any) -> None:
        if self._service is not None:
            self._service.bus.publish(topic, **data)

    def _call_changed(self, span: PriSpan, call: PriCall, what: str) -> None:
        for listener in list(self.call_listeners):
            listener(span, call, what)
        self._publish(
            "span.channel",
            span=span.name,
            channel=call.channel,
            call=call.id,
            what=what,
            caller=call.calling_number,
            callee=call.called_number,
            cause=call.cause,
        )

    def _alarm_changed(self, span: PriSpan, reason: str | None) -> None:
        self._publish("span.alarm", span=span.name, alarm=reason, alarms=span.span.alarms().names())
        if span.link_lost and self.spans.get(span.name) is span:
            # the card or simulator went away: close and reopen it like a span that
            # never opened (calls were already cleared and channels blocked)
            self.spans.pop(span.name)
            assert self._service is not None
            self._service.clock.call_later(0, span.close)
            self._failed[span.name] = reason or "link lost"
            if self._retry is None:
                self._schedule_retry()

    # -- status and control ---------------------------------------------------------
    def _summary(self, name: str, with_channels: bool) -> dict[str, Any]:
        span = self.spans.get(name)
        if span is None:
            entry = self._entries[name]
            return {
                "name": name,
                "address": entry.address,
                "state": "down",
                "in_service": False,
                "alarm": f"cannot open: {self._failed.get(name, 'not opened')}",
                "alarms": [],
                "dchannel": "down",
                "framing": entry.framing,
                "linecode": entry.linecode,
                "crc4": entry.crc4,
                "counters": {},
                "busy": 0,
                "idle": 0,
                "blocked": 30,
                **({"channels": []} if with_channels else {}),
            }
        status = span.status()
        # docs/control-protocol.md: 'up' for a span in service (libpri's view: in-service)
        status["state"] = "up" if status["state"] == "in-service" else status["state"]
        if not with_channels:
            status.pop("channels", None)
        for channel in status.get("channels", []):  # calls list's id, not libpri's number
            number = channel.get("call_id")
            channel["call_id"] = self.core_call_id(name, number) if number is not None else None
        return status

    def status(self) -> dict[str, Any]:
        return {name: self._summary(name, False)["state"] for name in self._entries}

    def healthy(self) -> bool:
        return True  # a span in alarm is a line fault, not a daemon fault

    def span(self, params: dict[str, Any]) -> PriSpan:
        name = params.get("span")
        if not isinstance(name, str):
            raise ControlError("bad-params", "'span' (a span name) is required")
        if name not in self._entries:
            raise ControlError("not-found", f"no span {name!r}; spans: {', '.join(self._entries)}")
        span = self.spans.get(name)
        if span is None:
            raise ControlError("refused", f"span {name} is down: {self._failed.get(name)}")
        return span

    async def _list(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"spans": [self._summary(name, False) for name in self._entries]}

    async def _show(self, params: dict[str, Any]) -> dict[str, Any]:
        name = params.get("span")
        if not isinstance(name, str) or name not in self._entries:
            raise ControlError("not-found", f"no span {name!r}; spans: {', '.join(self._entries)}")
        return self._summary(name, True)

    async def _busy_out(self, params: dict[str, Any]) -> dict[str, Any]:
        span = self.span(params)
        channel, on = params.get("channel"), params.get("on", True)
        if (
            not isinstance(channel, int)
            or isinstance(channel, bool)
            or channel not in span.channels
        ):
            raise ControlError(
                "bad-params", f"'channel' must be a B-channel number 1-15 or 17-31, got {channel!r}"
            )
        if not isinstance(on, bool):
            raise ControlError(
                "bad-params", "'on' must be true (busy out) or false (return to service)"
            )
        return span.busy_out(channel) if on else span.return_to_service(channel)

    async def _loopback(self, params: dict[str, Any]) -> dict[str, Any]:
        span = self.span(params)
        mode = params.get("mode")
        if mode not in LOOPBACK_MODES:
            raise ControlError("bad-params", f"'mode' must be one of {', '.join(LOOPBACK_MODES)}")
        span.span.loopback(mode)
        await self._line_reports_loopback(span, mode != "off")
        return self._summary(span.name, False)

    async def _line_reports_loopback(self, span: PriSpan, on: bool) -> None:
        """Wait (at most LOOPBACK_SETTLE_S) for the line's report of the new loop, so the
        answer shows the span's new state, not the one before the command."""
        assert self._service is not None
        waited = 0.0
        while ("loopback" in span.span.alarms().names()) != on and waited < LOOPBACK_SETTLE_S:
            await self._service.clock.sleep(0.05)
            waited += 0.05
