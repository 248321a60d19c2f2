"""A span's B-channels as one block per tick: one G.711 pass, partial blocks counted."""

from __future__ import annotations

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

    def open_channel(self, span: str, channel: int, call: PriCall) -> None: ...

    def close_channel(self, span: str, channel: int) -> None: ...

    def receive(self, span: str, channel: int, frame: npt.NDArray[np.int16]) -> None:
        self.received[channel] = frame

    def transmit(self, span: str, channel: int) -> npt.NDArray[np.int16] | None:
        return np.full(160, channel, np.int16)


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
