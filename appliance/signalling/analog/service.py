"""Build the analog ports, their state machines and the switch from ``[[rig.ports]]``.

Usage (telephonyd)::

    switch = build_switch(config.rig.ports, clock, engine, on_event=calls.on_analog_event)
    # each tick, before engine.tick():   switch.receive()
    # engine.on_event must hand events to switch.on_media_event (it returns False
    # for channels that are not analog ones)
    # control socket: for method, handler in control_methods(switch).items():
    #                     control.register(method, handler)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from appliance.config.sections.ports import PortEntry
from appliance.media.engine import MediaEngine, MediaError
from appliance.runtime.clock import Clock
from appliance.runtime.control import ControlError, Handler
from appliance.runtime.events import EventBus
from appliance.signalling.analog.channel import AnalogChannel, EventSink
from appliance.signalling.analog.dialplan import DialRule
from appliance.signalling.analog.fxo import FxoChannel, FxoSettings
from appliance.signalling.analog.fxs import FxsChannel, FxsSettings
from appliance.signalling.analog.switch import AnalogSwitch
from drivers.analog import AnalogPort, FxoPort, FxsPort, open_analog
from drivers.errors import DriverError

log = logging.getLogger("appliance.signalling.analog")

PortOpener = Callable[[str, str, str], AnalogPort]


def fxo_settings(entry: PortEntry) -> FxoSettings:
    return FxoSettings(
        country=entry.country, rings_before_answer=entry.rings_before_answer,
        ring_tolerance=entry.ring_tolerance, callerid=entry.callerid,
        callerid_timing=entry.callerid_timing, disconnect=tuple(entry.disconnect),
        battery_drop_ms=entry.battery_drop_ms, cpc_min_ms=entry.cpc_min_ms,
        silence_timeout_s=entry.silence_timeout_s, silence_dbm0=entry.silence_dbm0,
        dial_tone_wait_s=entry.dial_tone_wait_s, blind_dial=entry.blind_dial,
    )


def default_dial_plan(entries: Sequence[PortEntry]) -> tuple[DialRule, ...]:
    """Every FXS extension, and '9' + number out on a trunk when there are FXO lines."""
    rules = [DialRule(e.extension, "ext") for e in entries if e.kind == "fxs" and e.extension]
    if any(e.kind == "fxo" for e in entries):
        rules.append(DialRule("9.", "trunk", strip=1))
    return tuple(rules)


def fxs_settings(entry: PortEntry, entries: Sequence[PortEntry]) -> FxsSettings:
    plan = tuple(DialRule(r.pattern, r.target, r.strip) for r in entry.dial_plan) \
        or default_dial_plan(entries)
    return FxsSettings(
        country=entry.country, extension=entry.extension, callerid=entry.callerid,
        callerid_timing=entry.callerid_timing, first_digit_s=entry.first_digit_s,
        interdigit_s=entry.interdigit_s, off_hook_warning_s=entry.off_hook_warning_s,
        howler_s=entry.howler_s, disconnect_signal=entry.disconnect_signal,
        dial_plan=plan, features=dict(entry.features),
    )


def _open(address: str, kind: str, name: str) -> AnalogPort:
    return open_analog(address, "fxo" if kind == "fxo" else "fxs", name)


def build_switch(entries: Sequence[PortEntry], clock: Clock, engine: MediaEngine,
                 on_event: EventSink | None = None, bus: EventBus | None = None,
                 open_port: PortOpener = _open) -> AnalogSwitch:
    """Open every configured port; a port that cannot be opened is logged and left out."""
    switch = AnalogSwitch(clock, engine, on_event, bus)
    for entry in entries:
        try:
            port = open_port(entry.address, entry.kind, entry.name)
        except DriverError as exc:
            log.error("analog port %s (%s) left out: %s", entry.name, entry.address, exc,
                      extra={"port": entry.name})
            switch.unavailable[entry.name] = str(exc)
            continue
        channel: AnalogChannel | None = None
        try:
            if isinstance(port, FxoPort) and entry.kind == "fxo":
                channel = FxoChannel(port, clock, engine, fxo_settings(entry))
            elif isinstance(port, FxsPort) and entry.kind == "fxs":
                channel = FxsChannel(port, clock, engine, fxs_settings(entry, entries))
        except (MediaError, ValueError) as exc:
            port.close()
            log.error("analog port %s left out: %s", entry.name, exc, extra={"port": entry.name})
            switch.unavailable[entry.name] = str(exc)
            continue
        if channel is None:
            port.close()
            log.error("analog port %s: %s opened as %s, configured as %s; left out",
                      entry.name, entry.address, port.kind, entry.kind,
                      extra={"port": entry.name})
            switch.unavailable[entry.name] = f"device is {port.kind}, configured {entry.kind}"
            continue
        channel.address = entry.address
        switch.add(channel)
    return switch


def control_methods(switch: AnalogSwitch) -> dict[str, tuple[Handler, str]]:
    """``ports.list``, ``ports.show`` and ``ports.busy_out`` for telephonyd's control socket,
    each with the permission it needs.

    ``ports.list`` answers ``{"ports": [...]}``, one :meth:`AnalogSwitch.status`
    row per port; ``ports.show`` (``port``) answers that port's row or the
    error ``not-found``; ``ports.busy_out`` (``port``, ``on``: bool) takes the
    port out of service or returns it (OPS-1) and answers its row: errors
    ``bad-params``, ``not-found``, and ``refused`` for a port that could not be
    opened.
    """

    async def ports_list(params: dict[str, Any]) -> dict[str, Any]:
        return {"ports": switch.status()}

    async def ports_show(params: dict[str, Any]) -> dict[str, Any]:
        name = params.get("port")
        if not isinstance(name, str):
            raise ControlError("bad-params", "'port' (a port name) is required")
        for row in switch.status():
            if row["name"] == name:
                return row
        known = ", ".join(row["name"] for row in switch.status()) or "none configured"
        raise ControlError("not-found", f"no analog port {name!r}; known: {known}")

    async def ports_busy_out(params: dict[str, Any]) -> dict[str, Any]:
        name, on = params.get("port"), params.get("on", True)
        if not isinstance(name, str):
            raise ControlError("bad-params", "'port' (a port name) is required")
        if not isinstance(on, bool):
            raise ControlError(
                "bad-params", "'on' must be true (busy out) or false (return to service)")
        if name in switch.unavailable:
            raise ControlError("refused", f"analog port {name} is unavailable: "
                                          f"{switch.unavailable[name]}")
        if name not in switch.channels:
            known = ", ".join(row["name"] for row in switch.status()) or "none configured"
            raise ControlError("not-found", f"no analog port {name!r}; known: {known}")
        return switch.busy_out(name, on)

    return {"ports.list": (ports_list, "ports.read"), "ports.show": (ports_show, "ports.read"),
            "ports.busy_out": (ports_busy_out, "ports.maintain")}
