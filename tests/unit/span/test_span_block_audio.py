"""A span's B-channels as one block per tick: one G.711 pass, partial blocks counted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from unittest import mock

import numpy as np
import numpy.typing as npt

from appliance.config.sections.spans import SpanEntry
from appliance.runtime.clock import VirtualClock
from appliance.signalling.pri.call import PriCall
from appliance.signalling.pri.span import PriSpan
from drivers.span import g711, sim
from drivers.span.g711 import ALAW_SILENCE, alaw_encode
from drivers.span.sim import pack_linear, pack_tdm, unpack_tdm


def test_pack_linear_equals_per_channel_encoding_and_encodes_once() -> None:
    rng = np.random.default_rng(7)
    frames = {ts: rng.integers(-32768, 32767, 160, dtype=np.int16) for ts in (1, 9, 17, 31)}
    expected = pack_tdm({ts: alaw_encode(f) for ts, f in frames.items()})
    with mock.patch.object(sim, "alaw_encode", wraps=g711.alaw_encode) as encode:
        data = pack_linear(frames)
    assert data == expected
    assert encode.call_count == 1  # the whole span in one table look-up, not one per channel
    block = unpack_tdm(data)
    assert (block[:, 2] == ALAW_SILENCE).all() and (block[:, 16] == 0x7E).all()
    assert (unpack_tdm(pack_linear({}))[:, 1] == ALAW_SILENCE).all()


class _Media:
    def __init__(self) -> None:
        self.received: dict[int, npt.NDArray[np.int16]] = {}
        self.order: list[str] = []

    def open_channel(self, span: str, channel: int, call: PriCall) -> None: ...

    def close_channel(self, span: str, channel: int) -> None: ...

    def receive(self, span: str, frames: Mapping[int, npt.NDArray[np.int16]]) -> None:
        self.received.update(frames)
        self.order.append("in " + ",".join(f"B{ts}" for ts in frames))

    def timing(self, span: str, priority: int) -> None:
        self.order.append(f"tick {span} {priority}")

    def frame_counts(self, span: str, channel: int) -> dict[str, int]:
        return {"concealed": channel, "slips": 0, "output_slips": 1}

    def transmit(self, span: str, channels: Sequence[int]) -> dict[int, npt.NDArray[np.int16]]:
        self.order.append("out " + ",".join(f"B{ts}" for ts in channels))
        return {ts: np.full(160, ts, np.int16) for ts in channels}


def _active_call(channel: int) -> PriCall:
    call = PriCall(span="e1a", direction="inbound", channel=channel)
    for stimulus in ("recv-setup", "send-proceeding", "send-alerting", "send-connect"):
        call.fire(stimulus)
    return call


def test_a_block_missing_an_active_channel_is_counted_not_a_key_error() -> None:
    span = mock.Mock()
    media = _Media()
    pri = PriSpan(SpanEntry(name="e1a", address="sim:/x.sock"), span, VirtualClock(), media=media)
    for ts in (1, 2):
        pri.channels[ts].call = _active_call(ts)
    pri._audio_block({1: np.ones(160, np.int16)})  # the backend had no frame for B2
    assert set(media.received) == {1}
    assert pri.channels[2].frames_missing == 1 and pri.channels[1].frames_missing == 0
    assert pri.stats.frames_missing == 1
    sent = span.write_audio.call_args.args[0]
    assert set(sent) == {1, 2}  # B2 still gets its transmit frame
    assert pri.status()["stats"]["frames_missing"] == 1
    assert pri.status()["channels"][1]["frames_missing"] == 1
    # the media side's counts per channel, and their sums for the span
    assert pri.status()["channels"][1]["concealed"] == 2
    stats = pri.status()["stats"]
    assert (stats["concealed"], stats["slips"], stats["output_slips"]) == (
        sum(range(1, 32)) - 16, 0, 30)


def test_each_block_is_offered_as_one_timing_tick_between_its_inputs_and_outputs() -> None:
    """The span clocked from its line drives the engine: its frames in, one tick, this
    tick's frames out; an idle span still offers its clock."""
    media = _Media()
    entry = SpanEntry(name="e1a", address="sim:/x.sock", clock_priority=2)
    pri = PriSpan(entry, mock.Mock(), VirtualClock(), media=media)
    pri._audio_block({})
    assert media.order == ["tick e1a 2"]
    media.order.clear()
    for ts in (3, 4):
        pri.channels[ts].call = _active_call(ts)
    pri._audio_block({3: np.ones(160, np.int16), 4: np.ones(160, np.int16)})
    assert media.order == ["in B3,B4", "tick e1a 2", "out B3,B4"]  # one pass each way


def test_the_engine_port_counts_a_channels_lost_frames_over_all_its_calls() -> None:
    from appliance.media.engine import MediaEngine
    from appliance.signalling.pri.media import EngineMediaPort

    engine = MediaEngine(8)
    port = EngineMediaPort(engine, dtmf=False)
    port.open_channel("e1a", 5, _active_call(5))
    engine.tick()  # no frame: concealed
    port.transmit("e1a", [5])
    port.transmit("e1a", [5])  # the same output twice
    port.close_channel("e1a", 5)
    port.open_channel("e1a", 5, _active_call(5))
    for _ in range(5):
        port.receive("e1a", {5: np.zeros(160, np.int16)})  # one more than the buffer holds
    assert port.frame_counts("e1a", 5) == {"concealed": 1, "slips": 1, "output_slips": 1}
    assert port.frame_counts("e1a", 6) == {}


def test_the_engine_port_moves_a_spans_channels_in_one_block_each_way() -> None:
    from appliance.media.engine import MediaEngine
    from appliance.signalling.pri.media import EngineMediaPort

    engine = MediaEngine(8)
    port = EngineMediaPort(engine, dtmf=False)
    for ts in (1, 2):
        port.open_channel("e1a", ts, _active_call(ts))
    engine.bridge(port.handles[("e1a", 1)], port.handles[("e1a", 2)])
    with mock.patch.object(engine, "_write_block", wraps=engine._write_block) as write:
        port.receive("e1a", {1: np.full(160, 11, np.int16), 2: np.full(160, 22, np.int16),
                             9: np.full(160, 99, np.int16)})  # B9 has no call: ignored
    assert write.call_count == 1
    engine.tick()
    with mock.patch.object(engine, "_read_slots", wraps=engine._read_slots) as read:
        out = port.transmit("e1a", [1, 2, 9])
    assert read.call_count == 1 and set(out) == {1, 2}
    assert out[1][0] == 22 and out[2][0] == 11  # the bridge: each hears the other
