"""Outbound calls: B-channel hunting, Q.850 causes both ways, glare, overlap receiving."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from appliance.signalling.pri import causes
from appliance.signalling.pri.call import CallState
from appliance.signalling.pri.span import ChannelState
from drivers.span import SpanOperationError
from hil.sim.e1 import Route
from hil.sim.e1_rig import E1Rig, short_tempdir

pytestmark = pytest.mark.integration


def test_outbound_answered_then_cleared_normally_from_our_side() -> None:
    async def scenario() -> None:
        with short_tempdir() as tmp:
            async with E1Rig(Path(tmp)) as rig:
                line = rig.lines[0]
                call = line.pri.dial("0800123456", "0301234000")
                assert call.channel == 31  # default hunt: descending
                await rig.wait_for(lambda: call.state is CallState.ACTIVE)
                far = next(iter(line.sim.calls.values()))
                assert (far.called, far.calling, far.channel) == ("0800123456", "0301234000", 31)
                assert far.restricted is False
                hidden = line.pri.dial("0800999", "0301234001", presentation="restricted")
                await rig.wait_for(lambda: hidden.state is CallState.ACTIVE)
                far_hidden = next(c for c in line.sim.calls.values() if c.called == "0800999")
                assert far_hidden.restricted is True  # CLIR: presentation restricted sent
                line.pri.hangup(hidden)
                line.pri.hangup(call, "normal")
                await asyncio.wait_for(far.done.wait(), 2)
                await rig.wait_for(lambda: call.ended is not None)
                assert far.cause == causes.NORMAL_CLEARING
                assert [s for s, _ in call.history] == [
                    "send-setup", "recv-proceeding", "recv-alerting", "recv-connect",
                    "send-disconnect", "recv-release"]
                assert line.pri.channels[31].state is ChannelState.IDLE

    asyncio.run(scenario())


@pytest.mark.parametrize(("cause", "reason"), [
    (causes.USER_BUSY, "busy"),
    (causes.UNALLOCATED, "unallocated"),
    (causes.CALL_REJECTED, "rejected"),
    (causes.NO_CIRCUIT_AVAILABLE, "congestion"),
])
def test_outbound_refused_by_network_reports_the_cause(cause: int, reason: str) -> None:
    async def scenario() -> None:
        with short_tempdir() as tmp:
            async with E1Rig(Path(tmp)) as rig:
                line = rig.lines[0]
                line.sim.routes["5550000"] = Route(action="clear", cause=cause, alert=False)
                call = line.pri.dial("5550000")
                await rig.wait_for(lambda: call.ended is not None)
                assert call.cause == cause
                assert causes.reason_for(call.cause) == reason
                assert line.pri.status()["channel_counts"] == {"idle": 30}

    asyncio.run(scenario())


def test_hunt_list_and_round_robin_order() -> None:
    async def scenario() -> None:
        with short_tempdir() as tmp:
            async with E1Rig(Path(tmp), entry_overrides={"hunt": "list",
                                                         "hunt_list": [5, 7, 9]}) as rig:
                pri = rig.lines[0].pri
                first = pri.dial("1")
                second = pri.dial("2")
                assert (first.channel, second.channel) == (5, 7)
                pri.busy_out(9)
                with pytest.raises(SpanOperationError, match="no idle B-channel"):
                    pri.dial("3")

    asyncio.run(scenario())


def test_far_end_clears_an_answered_outbound_call() -> None:
    async def scenario() -> None:
        with short_tempdir() as tmp:
            async with E1Rig(Path(tmp)) as rig:
                line = rig.lines[0]
                call = line.pri.dial("123")
                await rig.wait_for(lambda: call.state is CallState.ACTIVE)
                far = next(iter(line.sim.calls.values()))
                line.sim.hangup(far, causes.NORMAL_CLEARING)
                await rig.wait_for(lambda: call.ended is not None)
                assert call.cause == causes.NORMAL_CLEARING
                assert ("recv-disconnect", CallState.DISCONNECT_INDICATION) in call.history

    asyncio.run(scenario())


def test_glare_the_network_setup_wins_on_the_user_side() -> None:
    async def scenario() -> None:
        with short_tempdir() as tmp:
            async with E1Rig(Path(tmp)) as rig:
                line = rig.lines[0]
                ours = line.pri.dial("777")  # B31, SETUP in flight
                theirs = line.sim.place_call(31, "4242", "0301")  # same channel, same moment
                await asyncio.wait_for(theirs.connected.wait(), 3)
                await rig.wait_for(lambda: ours.state is CallState.ACTIVE or ours.ended is not None)
                inbound = line.pri.channels[31].call
                assert inbound is not None and inbound.direction == "inbound"
                if ours.ended is None:  # network moved our call to another channel
                    assert ours.channel is not None and ours.channel != 31
                    assert line.pri.channels[ours.channel].call is ours
                busy = [ts for ts, ch in line.pri.channels.items() if ch.call is not None]
                assert len(busy) == len({*busy})

    asyncio.run(scenario())


def test_overlap_receiving_collects_the_called_number() -> None:
    async def scenario() -> None:
        with short_tempdir() as tmp:
            async with E1Rig(Path(tmp), entry_overrides={"overlap": True,
                                                         "overlap_digits": 6}) as rig:
                line = rig.lines[0]
                far = line.sim.place_call(3, "12", "0301", overlap_digits="3456")
                await asyncio.wait_for(far.connected.wait(), 3)
                call = line.pri.channels[3].call
                assert call is not None and call.called_number == "123456"
                assert ("send-setup-ack", CallState.OVERLAP_RECEIVING) in call.history
                assert "PRI_EVENT_SETUP_ACK" in far.events

    asyncio.run(scenario())


@pytest.mark.parametrize("switchtype", ["qsig", "ni2"])
def test_network_side_and_other_switch_types_carry_calls_both_ways(switchtype: str) -> None:
    async def scenario() -> None:
        with short_tempdir() as tmp:
            overrides = {"node": "network", "switchtype": switchtype}
            async with E1Rig(Path(tmp), entry_overrides=overrides) as rig:
                line = rig.lines[0]
                assert line.sim.node == "cpe" and line.pri.status()["node"] == "network"
                inbound = line.sim.place_call(3, "200", "0301")
                await asyncio.wait_for(inbound.connected.wait(), 3)
                outbound = line.pri.dial("300", "0400")
                await rig.wait_for(lambda: outbound.state is CallState.ACTIVE)
                line.pri.hangup(outbound, "normal")
                line.sim.hangup(inbound)
                await rig.wait_for(lambda: line.pri.status()["channel_counts"] == {"idle": 30})

    asyncio.run(scenario())
