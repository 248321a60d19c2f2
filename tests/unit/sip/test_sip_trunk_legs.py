"""SIP trunk legs without the network (appliance/signalling/sip/calls.py): what the core's
outbound route gets back from :meth:`SipLegs.dial`, and who may hand the back-end a call."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import pytest

from appliance.calls.channel import Channel, ChannelListener
from appliance.calls.outbound import OutboundRoute
from appliance.calls.technology import TechnologyRegistry, TrunkUnavailable
from appliance.config.load import load_config_text
from appliance.media.engine import MediaEngine
from appliance.runtime.clock import VirtualClock
from appliance.signalling.sip.calls import SipLegs
from appliance.signalling.sip.frames import FrameQueues

CONFIG = """
[sip]
enabled = true
listen_port = 5060
max_calls = 3
[sip.trunks.carrier]
host = "192.0.2.10"
max_calls = 2
[sip.trunks.backup]
host = "198.51.100.7"
[calls]
outbound_trunks = ["sip"]
"""


class Endpoint:
    """Takes the owner-thread work and keeps it: nothing here reaches pjsua2."""

    def __init__(self) -> None:
        self.work: list[Callable[[Any], Any]] = []
        self.owned: dict[object, object] = {}

    def submit(self, work: Callable[[Any], Any]) -> Future[Any]:
        self.work.append(work)
        return Future()


class Listener(ChannelListener):
    def __init__(self) -> None:
        self.hangups: list[int] = []

    def on_hangup(self, channel: Channel, cause: int) -> None:
        self.hangups.append(cause)


@pytest.fixture
def legs() -> tuple[SipLegs, TechnologyRegistry, list[Any]]:
    loop = asyncio.new_event_loop()
    registry = TechnologyRegistry()
    inbound: list[Any] = []
    registry.on_inbound = inbound.append
    technology = SipLegs(Endpoint(), MediaEngine(), load_config_text(CONFIG),  # type: ignore[arg-type]
                         registry, loop)
    registry.register(technology)
    yield technology, registry, inbound
    loop.close()


def test_a_full_trunk_refuses_at_once_and_the_route_takes_the_next(legs: Any) -> None:
    technology, registry, _ = legs
    assert technology.trunks() == ["backup", "carrier"]
    route = OutboundRoute(registry, VirtualClock(), ["carrier", "backup"])
    first = route.dial("013812345678", "201", Listener())
    second = route.dial("013812345679", "201", Listener())
    assert (first.name, first.trunk, second.trunk) == ("carrier/1", "carrier", "carrier")
    third = route.dial("013812345670", "201", Listener())
    assert third.trunk == "backup"  # carrier's two calls are up: the next trunk
    assert technology.circuits()["carrier"] == {"1": True, "2": True}
    with pytest.raises(TrunkUnavailable, match="max_calls = 3"):  # the back-end is full
        technology.dial("backup", "013812345671", "201", Listener())


@pytest.mark.parametrize(("trunk", "number"), [("nosuch", "0138"), ("carrier", "0138;x"),
                                               ("carrier", "")])
def test_an_unknown_trunk_or_a_non_number_is_refused(legs: Any, trunk: str, number: str) -> None:
    technology, _, _ = legs
    with pytest.raises(TrunkUnavailable):
        technology.dial(trunk, number, "201", Listener())


def test_the_invite_names_the_trunk_and_asserts_the_caller(
        legs: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    technology, _, _ = legs
    technology.dial("carrier", "013812345678", "201", Listener())
    sent: dict[str, Any] = {}

    class Call:
        def __init__(self, *args: Any) -> None: ...

        def makeCall(self, uri: str, prm: Any) -> None:
            sent["uri"] = uri
            sent["headers"] = {h.hName: h.hValue for h in prm.txOption.headers}

    import appliance.signalling.sip.pjcall as pjcall
    monkeypatch.setattr(pjcall, "LegCall", Call)
    technology.endpoint.owned["account"] = object()
    technology.endpoint.work[-1](None)  # the owner thread's part
    assert sent["uri"] == "sip:013812345678@127.0.0.1:5060"  # through the edge
    assert sent["headers"] == {"X-Appliance-Trunk": "carrier",
                               "P-Asserted-Identity": "<sip:201@appliance.local>"}


def test_only_the_edge_hands_the_back_end_a_call(legs: Any) -> None:
    technology, _, inbound = legs
    invite = ("INVITE sip:4008001000@127.0.0.1:5070 SIP/2.0\r\n"
              "X-Appliance-Trunk: carrier\r\n\r\n")
    technology._arrived(7, FrameQueues(), "<sip:13912345678@192.0.2.10>", invite,
                        "127.0.0.1:40000")  # a local process, not Kamailio
    assert inbound == [] and 7 not in technology.legs
    technology._arrived(8, FrameQueues(), "<sip:13912345678@192.0.2.10>", invite,
                        "127.0.0.1:5060")
    (leg,) = inbound
    assert (leg.name, leg.trunk, leg.caller, leg.dnis) == (
        "carrier/8", "carrier", "13912345678", "4008001000")


def test_a_trunk_with_all_calls_up_refuses_the_next_with_503(legs: Any) -> None:
    technology, _, inbound = legs
    invite = "INVITE sip:4008001000@x SIP/2.0\r\nX-Appliance-Trunk: carrier\r\n\r\n"
    for key in (1, 2, 3):
        technology._arrived(key, FrameQueues(), "<sip:1391@192.0.2.10>", invite,
                            "127.0.0.1:5060")
    assert len(inbound) == 2 and 3 not in technology.legs
