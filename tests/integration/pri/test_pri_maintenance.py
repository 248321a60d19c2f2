"""OPS-1 maintenance: busy-out (SERVICE), per-channel RESTART, loopback, status snapshot,
and overlap receiving timed by the injectable clock."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import numpy as np
import pytest

from appliance.runtime.clock import VirtualClock
from appliance.signalling.pri.call import CallState
from appliance.signalling.pri.span import ChannelState
from drivers.span import Loopback, open_span
from hil.sim.e1 import E1Simulator
from hil.sim.e1_rig import E1Rig, short_tempdir

pytestmark = pytest.mark.integration


def test_busy_out_on_euroisdn_blocks_locally() -> None:
    async def scenario() -> None:
        with short_tempdir() as tmp:
            async with E1Rig(Path(tmp)) as rig:
                line = rig.lines[0]
                assert line.pri.busy_out(31)["state"] == "blocked-local"
                assert line.pri.channels[31].state is ChannelState.BLOCKED_LOCAL
                call = line.pri.dial("123")
                assert call.channel == 30  # the hunt skips the busied-out channel
                line.pri.return_to_service(31)
                assert line.pri.channels[31].state.value == "idle"
                assert not line.sim.blocked  # no SERVICE message on EuroISDN

    asyncio.run(scenario())


def test_busy_out_sends_service_on_ni2_and_blocks_both_sides() -> None:
    async def scenario() -> None:
        with short_tempdir() as tmp:
            async with E1Rig(Path(tmp), entry_overrides={"switchtype": "ni2"}) as rig:
                line = rig.lines[0]
                line.pri.busy_out(31)
                await rig.wait_for(lambda: 31 in line.sim.blocked, 2, "SERVICE at the network")
                line.pri.return_to_service(31)
                await rig.wait_for(lambda: 31 not in line.sim.blocked, 2, "back in service")
                assert line.pri.channels[31].state is ChannelState.IDLE
                line.sim.place_call(31, "1", "2")  # and the channel carries calls again
                await rig.wait_for(lambda: line.pri.channels[31].call is not None, 2)

    asyncio.run(scenario())


def test_restart_of_one_channel_clears_its_call_only() -> None:
    async def scenario() -> None:
        with short_tempdir() as tmp:
            async with E1Rig(Path(tmp)) as rig:
                line = rig.lines[0]
                calls = [line.sim.place_call(ts, "1", "2") for ts in (1, 2)]
                await asyncio.wait_for(asyncio.gather(*(c.connected.wait() for c in calls)), 3)
                line.pri.restart_channel(1)
                await asyncio.wait_for(calls[0].done.wait(), 3)
                await rig.wait_for(lambda: line.pri.channels[1].state is ChannelState.IDLE)
                assert 1 in line.sim.restarts_received
                assert not calls[1].done.is_set()

    asyncio.run(scenario())


def test_local_loopback_is_an_alarm_and_loops_audio_then_recovers() -> None:
    async def scenario() -> None:
        with short_tempdir() as tmp:
            async with E1Rig(Path(tmp)) as rig:
                line = rig.lines[0]
                call = line.sim.place_call(1, "1", "2")
                await asyncio.wait_for(call.connected.wait(), 3)
                line.pri.span.loopback(Loopback.LOCAL)
                await rig.wait_for(lambda: "loopback" in line.pri.status()["alarms"])
                assert call.done.is_set()
                assert line.pri.status()["channel_counts"] == {"alarm": 30}
                assert line.pri.status()["loopback"] == "local"
                line.pri.span.loopback(Loopback.OFF)
                await rig.wait_in_service(5)

    asyncio.run(scenario())


def test_status_snapshot_is_json_ready_and_complete() -> None:
    async def scenario() -> None:
        with short_tempdir() as tmp:
            async with E1Rig(Path(tmp)) as rig:
                line = rig.lines[0]
                far = line.sim.place_call(9, "4000", "0301", restricted=True)
                await asyncio.wait_for(far.connected.wait(), 3)
                status = json.loads(json.dumps(line.pri.status()))
                assert status["name"] == "span1" and status["dchannel"] == "up"
                assert status["node"] == "cpe" and status["switchtype"] == "euroisdn_e1"
                assert status["in_service"] is True and status["alarm"] is None
                assert set(status["counters"]) == {"bpv", "crc4", "ebit", "fas", "slips"}
                assert status["channel_counts"] == {"busy": 1, "idle": 29}
                nine = next(ch for ch in status["channels"] if ch["channel"] == 9)
                assert nine["call"]["presentation"] == "restricted"
                assert nine["call_id"] == nine["call"]["id"]
                assert (status["state"], status["busy"], status["idle"]) == ("in-service", 1, 29)
                assert len(status["channels"]) == 30

    asyncio.run(scenario())


def test_overlap_receiving_completes_on_the_inter_digit_timeout() -> None:
    clock = VirtualClock()

    async def scenario() -> None:
        with short_tempdir() as tmp:
            async with E1Rig(Path(tmp), clock=clock,
                             entry_overrides={"overlap": True, "overlap_timeout": 4.0}) as rig:
                line = rig.lines[0]
                far = line.sim.place_call(6, "55", "0301", overlap_digits="12")
                await rig.wait_for(lambda: line.pri.channels[6].call is not None and
                                   line.pri.channels[6].call.called_number == "5512", 2)
                call = line.pri.channels[6].call
                assert call is not None and call.state is CallState.OVERLAP_RECEIVING
                clock.advance(3.9)
                assert call.state is CallState.OVERLAP_RECEIVING
                clock.advance(0.2)  # no digit for 4 s: the number is complete
                await asyncio.wait_for(far.connected.wait(), 3)
                assert call.state.value == CallState.ACTIVE.value
                assert call.called_number == "5512"

    asyncio.run(scenario())


def test_spy_address_logs_every_dchannel_frame(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        with short_tempdir() as tmp:
            async with E1Rig(Path(tmp), spy=True) as rig:
                line = rig.lines[0]
                far = line.sim.place_call(2, "1", "2")
                await asyncio.wait_for(far.connected.wait(), 3)
                assert line.pri.span.address.startswith("spy:sim:")

    with caplog.at_level(logging.DEBUG, logger="drivers.span.spy"):
        asyncio.run(scenario())
    frames = [r.getMessage() for r in caplog.records if r.name == "drivers.span.spy"]
    assert any(" tx 00 01 7f" in m for m in frames)  # our SABME (Q.921 §3.6.3), user side
    assert any(" rx " in m and " 08 02 " in m for m in frames)  # Q.931 from the network


def test_network_loopback_returns_the_far_ends_own_signal() -> None:
    async def scenario() -> None:
        with short_tempdir() as tmp:
            async with E1Rig(Path(tmp)) as rig:
                line = rig.lines[0]
                line.pri.span.loopback(Loopback.REMOTE)
                await rig.wait_for(lambda: line.pri.status()["loopback"] == "remote" and
                                   "loopback" in line.pri.status()["alarms"])
                line.sim.play_tone(5, (1020.0,), 0.2)  # the O.150 1020 Hz test tone
                for _ in range(5):
                    line.sim.send_tdm(1)
                    await asyncio.sleep(0.005)
                heard = line.sim.heard(5)
                assert len(heard) >= 800
                spectrum = np.abs(np.fft.rfft(heard[:800].astype(float)))
                assert abs(int(np.argmax(spectrum)) * 8000 / 800 - 1020) <= 10

    asyncio.run(scenario())


def test_local_loopback_returns_the_appliances_own_transmit() -> None:
    async def scenario() -> None:
        with short_tempdir() as tmp:
            sim = E1Simulator(Path(tmp) / "e1.sock")
            await sim.start()
            span = open_span(f"sim:{tmp}/e1.sock")
            try:
                await asyncio.sleep(0.01)
                span.loopback(Loopback.LOCAL)
                await asyncio.sleep(0.01)
                assert sim.loopback == "local"
                tone = (np.sin(np.arange(160) * 2 * np.pi * 1020 / 8000) * 8000).astype(np.int16)
                span.write_audio({9: tone})
                await asyncio.sleep(0.01)
                sim.send_tdm(1)
                await asyncio.sleep(0.01)
                block = span.read_audio()
                assert block is not None
                assert np.max(np.abs(block[9].astype(int) - tone)) < 300
                assert np.max(np.abs(block[10])) <= 8  # A-law idle (0xD5) is +8
            finally:
                span.close()
                await sim.close()

    asyncio.run(scenario())
