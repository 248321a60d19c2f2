"""Line and D-channel faults: the right alarm, calls cleared, channels blocked, recovery."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from appliance.signalling.pri import causes
from appliance.signalling.pri.call import CallState
from appliance.signalling.pri.span import PriSpan
from hil.sim.e1 import E1Simulator, SimCall
from hil.sim.e1_rig import E1Rig, answer_all, short_tempdir

pytestmark = pytest.mark.integration


async def _calls(rig: E1Rig, count: int = 5) -> list[SimCall]:
    sim = rig.lines[0].sim
    calls = [sim.place_call(ts, f"10{ts}", "0301") for ts in range(1, count + 1)]
    await asyncio.wait_for(asyncio.gather(*(c.connected.wait() for c in calls)), 3)
    return calls


async def _fault_and_recover(inject: Callable[[E1Simulator], None],
                             clear: Callable[[E1Simulator], None], alarm: str) -> None:
    with short_tempdir() as tmp:
        async with E1Rig(Path(tmp)) as rig:
            line = rig.lines[0]
            far_calls = await _calls(rig)
            ours = [line.pri.channels[ts].call for ts in range(1, 6)]
            announced: list[str | None] = []
            line.pri.alarm_listeners.append(lambda span, reason: announced.append(reason))
            inject(line.sim)
            await rig.wait_for(lambda: line.pri.alarm is not None, 3, "alarm")
            status = line.pri.status()
            assert alarm in status["alarms"], status["alarms"]
            assert alarm in (status["alarm"] or "")
            assert status["in_service"] is False
            assert status["channel_counts"] == {"alarm": 30}  # every channel blocked
            for call in ours:
                assert call is not None and call.state is CallState.NULL
                assert call.cause == causes.NETWORK_OUT_OF_ORDER
            assert all(c.done.is_set() for c in far_calls)  # network side cleared too
            clear(line.sim)
            await rig.wait_in_service(5)
            assert announced[-1] is None and alarm in (announced[0] or "")
            again = line.sim.place_call(7, "107", "0301")
            await asyncio.wait_for(again.connected.wait(), 3)


def test_loss_of_signal_is_a_red_alarm_and_recovers() -> None:
    asyncio.run(_fault_and_recover(lambda s: s.set_los(True), lambda s: s.set_los(False), "red"))


def test_ais_is_a_blue_alarm_and_recovers() -> None:
    asyncio.run(_fault_and_recover(lambda s: s.set_ais(True), lambda s: s.set_ais(False), "blue"))


def test_remote_alarm_is_a_yellow_alarm_and_recovers() -> None:
    asyncio.run(_fault_and_recover(lambda s: s.set_rai(True), lambda s: s.set_rai(False),
                                   "yellow"))


def test_crc4_error_burst_loses_multiframe_red_alarm() -> None:
    asyncio.run(_fault_and_recover(lambda s: s.inject_crc_errors(1000),
                                   lambda s: s.clear_crc_burst(), "red"))


def test_slips_and_scattered_crc_errors_are_counted_without_dropping_calls() -> None:
    async def scenario() -> None:
        with short_tempdir() as tmp:
            async with E1Rig(Path(tmp)) as rig:
                line = rig.lines[0]
                await _calls(rig, 3)
                line.sim.inject_slips(2)
                line.sim.inject_crc_errors(7)
                line.sim.inject_crc_errors(4, towards_appliance=False)
                await rig.wait_for(lambda: line.pri.status()["counters"]["ebit"] == 4)
                assert line.pri.status()["counters"]["crc4"] == 7
                status = line.pri.status()
                assert status["counters"]["slips"] == 2
                assert status["alarm"] is None and status["alarms"] == []
                assert status["channel_counts"] == {"busy": 3, "idle": 27}

    asyncio.run(scenario())


def test_far_end_restart_clears_calls_and_channels_return_to_service() -> None:
    async def scenario() -> None:
        with short_tempdir() as tmp:
            async with E1Rig(Path(tmp)) as rig:
                line = rig.lines[0]
                await _calls(rig, 4)
                ours = line.pri.channels[2].call
                line.sim.far_end_restart(2)
                await rig.wait_for(lambda: line.pri.channels[2].call is None)
                assert ours is not None and ours.cause == causes.TEMPORARY_FAILURE
                assert line.pri.status()["channel_counts"] == {"busy": 3, "idle": 27}
                line.sim.far_end_restart()
                await rig.wait_for(lambda: line.pri.status()["channel_counts"] == {"idle": 30})

    asyncio.run(scenario())


def test_dframe_loss_and_corruption_are_recovered_by_lapd() -> None:
    async def scenario() -> None:
        with short_tempdir() as tmp:
            async with E1Rig(Path(tmp)) as rig:
                line = rig.lines[0]
                line.sim.drop_dframes(to_appliance=1, from_appliance=1)
                line.sim.corrupt_dframes(1)
                calls = await _calls(rig, 3)  # T200 retransmissions (Q.921 §5.6) get them through
                assert all(c.state == "connected" for c in calls)
                assert line.pri.alarm is None

    asyncio.run(scenario())


def test_dchannel_down_clears_calls_raises_alarm_and_recovers() -> None:
    async def scenario() -> None:
        with short_tempdir() as tmp:
            async with E1Rig(Path(tmp)) as rig:
                line = rig.lines[0]
                await _calls(rig, 2)
                call = line.pri.channels[1].call
                assert call is not None
                line.sim.drop_dframes(from_appliance=10_000)  # far end deaf at layer 2
                line.pri.hangup(call)  # our DISCONNECT is never acknowledged
                await rig.wait_for(lambda: line.pri.alarm == "D-channel down", 5, "D-channel down")
                assert line.pri.status()["channel_counts"] == {"alarm": 30}
                assert line.pri.channels[2].call is None
                line.sim.faults.drop_from_appliance = 0
                await rig.wait_in_service(8)

    asyncio.run(scenario())


def test_simulator_gone_is_reported_not_ignored(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        with short_tempdir() as tmp:
            async with E1Rig(Path(tmp)) as rig:
                line = rig.lines[0]
                await _calls(rig, 1)
                for sock in list(line.sim._conns.values()):
                    sock.close()
                line.sim._conns.clear()
                await rig.wait_for(lambda: (line.pri.alarm or "").startswith("link lost"), 3)
                assert line.pri.status()["channel_counts"] == {"alarm": 30}

    with caplog.at_level(logging.ERROR, logger="appliance.signalling.pri"):
        asyncio.run(scenario())
    assert any("closed" in r.getMessage() for r in caplog.records)


def test_span_flapping_leaves_no_leaked_channel_and_other_spans_unaffected() -> None:
    async def scenario() -> None:
        with short_tempdir() as tmp:
            async with E1Rig(Path(tmp), spans=2) as rig:
                flappy, steady = rig.lines
                steady_calls = [steady.sim.place_call(ts, "1", "2") for ts in (1, 2, 3)]
                await asyncio.wait_for(
                    asyncio.gather(*(c.connected.wait() for c in steady_calls)), 3)
                for _ in range(10):
                    flappy.sim.set_los(True)
                    await asyncio.sleep(0.01)
                    flappy.sim.set_los(False)
                    await asyncio.sleep(0.01)
                await rig.wait_for(lambda: flappy.pri.status()["channel_counts"] == {"idle": 30},
                                   5, "flapping span back in service")
                assert flappy.pri.calls == {}
                assert steady.pri.status()["channel_counts"] == {"busy": 3, "idle": 27}
                assert all(not c.done.is_set() for c in steady_calls)

    asyncio.run(scenario())


def test_appliance_restart_reconnects_to_the_simulator_cleanly() -> None:
    async def scenario() -> None:
        with short_tempdir() as tmp:
            async with E1Rig(Path(tmp)) as rig:
                line = rig.lines[0]
                far = line.sim.place_call(1, "1", "2")
                await asyncio.wait_for(far.connected.wait(), 3)
                line.pri.close()  # the telephony daemon stops ...
                again = PriSpan.open(line.pri.entry, rig.clock, on_incoming=answer_all)
                line.pri = again  # ... and starts again on the same line
                await asyncio.wait_for(far.done.wait(), 3)  # the old call is gone
                await rig.wait_in_service(5)
                second = line.sim.place_call(1, "1", "2")
                await asyncio.wait_for(second.connected.wait(), 3)

    asyncio.run(scenario())
