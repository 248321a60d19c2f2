"""``[[rig.ports]]`` keys: validation and building the switch from them."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from appliance.config.sections.ports import PortEntry
from appliance.config.validate import Problem, build
from appliance.media.engine import MediaEngine
from appliance.runtime.clock import VirtualClock
from appliance.signalling.analog.fxo import FxoChannel
from appliance.signalling.analog.fxs import FxsChannel
from appliance.signalling.analog.service import build_switch
from drivers.analog import AnalogPort
from drivers.analog.errors import AnalogPortInitError
from drivers.analog.sim import SimFxoPort, SimFxsPort


def _build(data: dict[str, Any]) -> tuple[PortEntry, list[Problem]]:
    problems: list[Problem] = []
    entry = build(PortEntry, data, ("rig", "ports", 0), problems)
    return entry, problems


def test_defaults_and_full_entry() -> None:
    entry, problems = _build({"name": "line1", "kind": "fxo", "address": "dahdi:1"})
    assert problems == []
    assert entry.country == "CN" and entry.rings_before_answer == 2
    assert "silence" in entry.disconnect and entry.features["*51"] == "agent-login"
    entry, problems = _build({
        "name": "desk1", "kind": "fxs", "address": "sim:/run/p.sock", "country": "GB",
        "extension": "201", "dial_plan": [{"pattern": "2XX"}, {"pattern": "9.",
                                                                "target": "trunk", "strip": 1}],
        "features": {"*31": "agent-pause"}, "disconnect_signal": "polarity",
    })
    assert problems == []
    assert entry.dial_plan[1].target == "trunk" and entry.dial_plan[1].strip == 1


@pytest.mark.parametrize(("key", "value", "words"), [
    ("country", "XX", "no analog profile"),
    ("rings_before_answer", 0, "below the minimum"),
    ("disconnect", ["battery", "smoke"], "not allowed"),
    ("callerid", "fsk", "not allowed"),
    ("dial_plan", [{"pattern": "9.1"}], "must come last"),
    ("features", {"*21": "make-coffee"}, "choose one of"),
    ("extension", "20A", "does not match"),
    ("silence_timeout_s", 0, "greater than"),
])
def test_bad_values_are_reported_with_their_key(key: str, value: object, words: str) -> None:
    _, problems = _build({"name": "p", "kind": "fxo", "address": "sim:/x", key: value})
    assert problems, key
    assert words in problems[0].message
    assert key in problems[0].path


def _socket_opener(made: list[socket.socket]) -> Any:
    def opener(address: str, kind: str, name: str) -> AnalogPort:
        if address == "sim:/missing":
            raise AnalogPortInitError("analog simulator at /missing does not answer")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        made.append(theirs)
        cls = SimFxoPort if kind == "fxo" else SimFxsPort
        return cls.from_socket(ours, name)
    return opener


def test_build_switch_from_config_with_a_default_dial_plan() -> None:
    entries = [
        _build({"name": "line1", "kind": "fxo", "address": "sim:/a", "rings_before_answer": 3})[0],
        _build({"name": "desk1", "kind": "fxs", "address": "sim:/b", "extension": "201"})[0],
        _build({"name": "desk2", "kind": "fxs", "address": "sim:/c", "extension": "202"})[0],
        _build({"name": "desk3", "kind": "fxs", "address": "sim:/missing"})[0],
    ]
    made: list[socket.socket] = []
    engine = MediaEngine(capacity=8)
    switch = build_switch(entries, VirtualClock(), engine, open_port=_socket_opener(made))
    line, desk1 = switch.channels["line1"], switch.channels["desk1"]
    assert isinstance(line, FxoChannel) and line.settings.rings_before_answer == 3
    assert isinstance(desk1, FxsChannel)
    assert [r.pattern for r in desk1.plan.rules[:3]] == ["201", "202", "9."]
    rows = {row["name"]: row for row in switch.status()}
    assert rows["desk3"]["state"] == "unavailable" and "does not answer" in rows["desk3"]["error"]
    assert rows["line1"]["address"] == "sim:/a" and rows["line1"]["hook"] == "on"
    assert rows["line1"]["battery"] is True and rows["desk1"]["kind"] == "fxs"
    switch.close()
    switch.close()
    for s in made:
        s.close()


def test_control_methods_list_and_show_ports() -> None:
    import asyncio

    from appliance.runtime.control import ControlError
    from appliance.runtime.events import EventBus
    from appliance.signalling.analog.service import control_methods

    entries = [_build({"name": "line1", "kind": "fxo", "address": "sim:/a"})[0]]
    made: list[socket.socket] = []
    switch = build_switch(entries, VirtualClock(), MediaEngine(capacity=2),
                          open_port=_socket_opener(made))
    methods = {name: handler for name, (handler, _) in control_methods(switch).items()}
    switch.bus = bus = EventBus(lambda: 0.0)
    seen: list[dict[str, Any]] = []
    bus.listen("port.*", lambda event: seen.append(event.as_message()))
    line = switch.channels["line1"]
    assert isinstance(line, FxoChannel)
    line.dial("1")
    assert seen[-1]["event"] == "port.state"
    assert seen[-1]["data"]["state"] == "seized" and seen[-1]["data"]["previous"] == "idle"
    line.hangup()
    listed = asyncio.run(methods["ports.list"]({}))
    assert [p["name"] for p in listed["ports"]] == ["line1"]
    assert asyncio.run(methods["ports.show"]({"port": "line1"}))["state"] == "releasing"
    with pytest.raises(ControlError, match="no analog port 'line9'; known: line1"):
        asyncio.run(methods["ports.show"]({"port": "line9"}))
    with pytest.raises(ControlError, match="required"):
        asyncio.run(methods["ports.show"]({}))
    switch.close()
    for s in made:
        s.close()


def test_a_port_the_media_engine_has_no_room_for_is_left_out_and_closed() -> None:
    entries = [_build({"name": f"line{i}", "kind": "fxo", "address": f"sim:/{i}"})[0]
               for i in range(3)]
    made: list[socket.socket] = []
    switch = build_switch(entries, VirtualClock(), MediaEngine(capacity=2),
                          open_port=_socket_opener(made))
    rows = {row["name"]: row for row in switch.status()}
    assert rows["line2"]["state"] == "unavailable" and "full" in rows["line2"]["error"]
    assert list(switch.channels) == ["line0", "line1"]
    switch.close()
    for s in made:
        s.close()
