"""30 inbound calls on one span and 90 on three, answered, with audio end to end."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from appliance.media.dsp.tones import parse_tone
from appliance.media.engine import MediaEngine
from appliance.media.events import DtmfDigit, MediaEvent
from appliance.runtime.clock import RealClock
from appliance.signalling.pri.media import EngineMediaPort
from drivers.span import BCHANNELS
from hil.sim.e1_rig import E1Rig, pump_audio, short_tempdir

pytestmark = pytest.mark.integration

DIGITS = "0123456789*#ABCD"


def goertzel_power(samples: np.ndarray, freq: float, rate: int = 8000) -> float:
    """Relative power of ``freq`` in ``samples`` (Goertzel), as a share of total power (1.0: pure tone)."""
    x = samples.astype(np.float64)
    n = np.arange(len(x))
    tone = 2 * np.abs(np.sum(x * np.exp(-2j * np.pi * freq * n / rate))) ** 2 / len(x)
    total = float(np.sum(x * x)) or 1.0
    return float(tone / total)


async def _load(spans: int) -> None:
    digits_heard: dict[str, list[str]] = {}

    def on_event(event: MediaEvent) -> None:
        if isinstance(event, DtmfDigit):
            digits_heard.setdefault(event.channel.name, []).append(event.digit)

    engine = MediaEngine(capacity=128, on_event=on_event)
    port = EngineMediaPort(engine)
    with short_tempdir() as tmp:
        async with E1Rig(Path(tmp), spans=spans, media=port) as rig:
            calls = []
            for index, line in enumerate(rig.lines, start=1):
                for ts in BCHANNELS:
                    calls.append(line.sim.place_call(ts, f"{index}{ts:03d}", f"0301234{ts:02d}",
                                                     restricted=ts % 2 == 0))
            await asyncio.wait_for(asyncio.gather(*(c.connected.wait() for c in calls)), 10)
            for line in rig.lines:
                status = line.pri.status()
                assert status["channel_counts"] == {"busy": 30}
                assert status["stats"]["answered"] == 30
                for ts in BCHANNELS:
                    snap = status["channels"][BCHANNELS.index(ts)]["call"]
                    assert snap["state"] == "U10-active"
                    assert snap["called"].endswith(f"{ts:03d}")  # DNIS delivered
                    assert snap["calling"] == f"0301234{ts:02d}"  # CLIP
                    assert snap["presentation"] == ("restricted" if ts % 2 == 0 else "allowed")
            assert len(port.handles) == 30 * spans
            # far end: each caller keys one DTMF digit; the appliance plays 1 kHz back
            for line in rig.lines:
                for ts in BCHANNELS:
                    line.sim.send_dtmf(ts, DIGITS[ts % 16])
            for handle in port.handles.values():
                engine.play_spec(handle, parse_tone("1000"))
            await pump_audio(rig, 20)  # the first span's clock ticks the engine
            for line in rig.lines:
                for ts in BCHANNELS:
                    name = port.channel_name(line.pri.name, ts)
                    assert digits_heard.get(name) == [DIGITS[ts % 16]], name
                    heard = line.sim.heard(ts)[-800:]
                    assert goertzel_power(heard, 1000.0) > 0.8, (name, "1 kHz not received")
            for index, line in enumerate(rig.lines):
                for call in calls[index * 30:(index + 1) * 30]:
                    line.sim.hangup(call)
            await asyncio.wait_for(asyncio.gather(*(c.done.wait() for c in calls)), 10)
            await rig.wait_for(lambda: all(
                line.pri.status()["channel_counts"] == {"idle": 30} for line in rig.lines))
            assert not port.handles  # every engine channel released


def test_thirty_inbound_calls_on_one_span_answered_with_audio() -> None:
    asyncio.run(_load(1))


def test_ninety_inbound_calls_on_three_spans_answered_with_audio() -> None:
    asyncio.run(_load(3))


def test_real_time_clocked_line_and_running_media_engine_carry_dtmf() -> None:
    """The simulator clocks 20 ms blocks in real time; the running engine follows its clock."""
    digits: list[str] = []

    def on_event(event: MediaEvent) -> None:
        if isinstance(event, DtmfDigit):
            digits.append(event.digit)

    engine = MediaEngine(capacity=8, on_event=on_event)

    async def scenario() -> None:
        with short_tempdir() as tmp:
            async with E1Rig(Path(tmp), media=EngineMediaPort(engine)) as rig:
                line = rig.lines[0]
                call = line.sim.place_call(12, "100", "0301")
                await asyncio.wait_for(call.connected.wait(), 3)
                line.sim.send_dtmf(12, "159")
                line.sim.start_tdm()
                await engine.run(RealClock(), ticks=40)  # 0.8 s of audio
                assert line.sim.blocks_sent >= 30 and line.sim.blocks_received >= 30
                assert engine.stats.timing_source == line.pri.name

    asyncio.run(scenario())
    assert digits == ["1", "5", "9"]
